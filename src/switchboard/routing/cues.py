"""Cues: cheap, explainable facts about a mention's text that the policy's rules read.

Word cues come from the policy config (so they are versioned with it); pattern cues (order,
account and booking numbers, e-mail, phone, card) are regular expressions here because they
describe the shape of personal data, not a business choice. Everything is compiled once, at
policy load.

Word-cue entries (the `[cues]` section of policy.toml) are matched on the lower-cased text with
accents, ß, œ/æ and typographic quotes folded ("blessé" = "blesse", "don’t" = "don't"):

- an entry matches as a prefix at a word start ("injur" finds "injured"); a trailing space asks
  for the whole word ("sue " finds "sue" but not "suede");
- a space matches any run of spaces or hyphens ("self harm" finds "self-harm"), a hyphen is
  optional ("e-ticket" finds "eticket"), so is an apostrophe ("don't" finds "dont");
- `{a|b|}` is one of the alternatives (an empty one makes the group optional), `{_name}` one of
  the entries of the list `_name` in the same section (a shared vocabulary, not a cue), and `*`
  any one word;
- `!phrase` is an exception: a cue word or phrase starting inside it does not count ("!fire sale":
  "fire sale" is no fire), one starting before it does ("caught fire sale stock" is a fire);
- an acronym in capitals matches case-sensitively on the text as written ("DOT ", the US
  regulator, not "on the dot").

Abuse aimed at the brand is not a safety report (RUBRIC.md R1/R2): `ABUSE_WISH` finds wishes of
harm ("hope your HQ burns down", "burn in hell", "ojalá se quemen"); a harm cue (`ABUSE_MASKS`)
whose words occur only inside such a phrase is dropped, and the phrase is the `abuse` cue.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache, lru_cache

from switchboard.ml.text import clean

# Booking, reservation and bag-tag references: a keyword (any case) then a code in capitals and
# digits ("ref K7TQ2M", "booking ref TD4420", "reservation MRD-7731", "tag BF 661204"), or six
# capitals after a locator keyword ("PNR QXPTLM"). Flight numbers have no keyword, so no match.
_BOOKING_WORD = (
    r"(?i:booking|reservation|reserva|reservierung|r[ée]servation|buchung(?:snummer|scode)?|res|"
    r"ref|r[ée]f|reference|r[ée]f[ée]rence|referencia|refer[êe]ncia|confirmation|conf|dossier|"
    r"e-?ticket|billet|bilhete|pnr|record locator|locator|localizador|bag tag|tag|"
    r"etiqueta|[ée]tiquette|gep[äa]ckschein)"
)
_BOOKING_FILLER = (
    r"(?:\W{0,3}(?i:no|nr|num|number|n[°º]|n[úu]mero|nummer|code|c[óo]digo|ref|reference|is|"
    r"es|est|ist|de|da|do|du)(?!\w))?"
)
_LOCATOR = r"(?i:pnr|record locator|locator|localizador)"

PATTERNS: dict[str, re.Pattern[str]] = {
    "order_number": re.compile(
        r"(?i:order|booking|ticket|pedido|commande|bestellung|reserva|r[ée]servation|reservation|"
        r"buchung|protocolo|solicitud|application|claim|policy)\W{0,3}#?\s?(?i:[A-Z]{0,3})\d{5,}"
        r"|#(?i:[A-Z]{0,3})\d{6,}"
        # Hyphenated references in capitals: "order NP-7731920", "pedido CH-ES-11029",
        # "Auftragsnr. 55-2091", "claim AM-CL-55102", "policy no AM-7742190".
        r"|(?<!\w)(?i:order|pedido|commande|bestellung|bestellnummer|auftrag(?:snr|snummer)?|"
        r"encomenda|claim|policy|p[óo]liza|ap[óo]lice|sinistro|expediente|rma|dossier|application|"
        r"solicitud|schadennummer|aktenzeichen|az|res|protocolo)\b\.?\W{0,3}"
        r"(?:(?i:no|nr|number|num|n[°º]|ref)(?!\w)\.?\W{0,3})?#?"
        r"(?=[A-Z0-9-]{5})(?=[A-Z0-9-]*\d{3})[A-Z0-9]{1,8}(?:-[A-Z0-9]{1,8}){0,3}(?![\w-])"
    ),
    "account_number": re.compile(
        r"(?:account|acct|acc|cuenta|compte|konto|conta|member(?:ship)?|customer|kunden)\W{0,3}"
        r"(?:no\.?|nr\.?|number|num|id|#|n[°º])?\W{0,3}(?:[A-Z]{1,3}-?)?\d{5,}",
        re.I,
    ),
    "email": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"),
    "phone": re.compile(
        r"(?<!\d)(?:\+\d{1,3}[\s.-]?)?(?:\(?\d{3}\)?[\s.-]?)\d{3}[\s.-]?\d{4}(?!\d)"
    ),
    "card": re.compile(r"(?<!\d)(?:\d{4}[\s-]?){3}\d{4}(?!\d)|card ending (?:in )?\d{4}", re.I),
    "question": re.compile(r"\?"),
    # A pattern may share its name with a word cue: the cue is present when either finds it.
    "booking": re.compile(
        rf"(?<!\w){_BOOKING_WORD}\b{_BOOKING_FILLER}\W{{0,3}}"
        r"(?:(?=[A-Z0-9-]*\d)(?=[0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{3,10}[A-Z0-9]|[A-Z]{1,3} ?\d{5,10})"
        r"(?![\w-])"
        rf"|(?<!\w){_LOCATOR}\W{{0,3}}(?:(?i:is)\W{{1,3}})?[A-Z]{{6}}\b"
    ),
    # A handle ending in CEO (@JetMarlinCEO): the executive is addressed.
    "executive": re.compile(r"@\w*(?:CEO|Ceo|ceo)\b"),
}


# Cues that cannot match without a digit / an "@": skipping them on texts without one halves
# the cost of `find_cues` for most mentions, with the same result.
NEED_DIGIT = frozenset({"order_number", "account_number", "phone", "card"})
NEED_AT = frozenset({"email", "executive"})
_DIGIT = re.compile(r"\d")

# --- Abuse aimed at the brand -----------------------------------------------------------------
# Matched on the folded lower-case text. A wish needs a wish word ("hope", "ojalá", "j'espère",
# "hoffentlich", "tomara"...), at most five words, none of them a negation or a get-well word
# ("hope your son is ok after he got burned" is sympathy, "hope it doesn't explode" a worry),
# then a harm verb; or a fixed curse ("burn in hell", "go die", "fahrt zur Hölle").
_GUARD = (
    r"(?:not|never|no|nobody|don'?t|doesn'?t|didn'?t|won'?t|isn'?t|aren'?t|can'?t|cannot|ok|"
    r"okay|alright|fine|well|safe|better|recover\w*|ne|pas|personne|nicht|nie|niemand|kein\w*|"
    r"nao|nunca|nem|ninguem|nadie|bien|bem|gut)"
)
_GAP = rf"(?:[\s,]+(?!{_GUARD}\b)[\w'@#.-]+){{0,5}}?[\s,]+"
_HARM_EN = (
    r"(?:burn|burns|burn down|burns down|get burned|gets burned|get burnt|gets burnt|die|dies|"
    r"drop dead|crash|crashes|explode|explodes|blow up|blows up|catch fire|catches fire|"
    r"go (?:up|down) in flames|goes (?:up|down) in flames|rot|rots|choke|chokes|go bust|"
    r"goes bust|go bankrupt|goes bankrupt|go under|goes under|sink|sinks|"
    r"falls? out of the sky|get (?:food poisoning|sick|cancer)|gets (?:food poisoning|sick)|"
    r"suffer|suffers)"
)
_HARM_TAIL = (
    r"(?:\s+(?:in (?:a |the )?(?:fire|hell|flames|ditch|hole)|and (?:burn|die)|"
    r"to (?:the ground|death|ashes)|down|alive|on (?:it|them|that|this|your \w+)))*"
)
_HARM_ES_PT = (
    r"(?:quem\w*|ard\w*|muer\w*|mueran|muran|morr\w*|estrell\w*|explot\w*|explod\w*|hund\w*|"
    r"afund\w*|arruin\w*|quiebr\w*|quebr\w*|fali\w*|falencia|pudr\w*|apodre\w*|revient\w*|"
    r"incendi\w*|caiga\w*|caia\w*|peg\w* fogo)"
)
_HARM_FR = (
    r"(?:brul\w*|crev\w*|meur\w*|mour\w*|coul\w*|explos\w*|s'?ecras\w*|faillite|pourri\w*|"
    r"flamb\w*|saut\w*)"
)
_HARM_DE = (
    r"(?:brenn\w*|abbrenn\w*|abgebrannt|verbrenn\w*|verreck\w*|krepier\w*|sterb\w*|stirbt|"
    r"abstur\w*|sturz\w*|explodier\w*|pleite\w*|untergeh\w*|zugrunde)"
)
_SUBJECT_EN = (
    r"(?:that\s+)?(?:you|u|ya|y'?all|your|ur|yours|their|they|them|the|this|that|these|"
    r"those|every|all|@\w+|\w+'s)\b"
)
ABUSE_WISH = re.compile(
    r"(?<!\w)(?:"
    rf"(?:hope|hoping|wish|pray)\s+{_SUBJECT_EN}{_GAP}{_HARM_EN}\b{_HARM_TAIL}"
    rf"|may\s+(?:you|your|all your)\b{_GAP}{_HARM_EN}\b{_HARM_TAIL}"
    r"|(?:burn|rot|roast) in hell|go to hell|die in a (?:fire|ditch|hole)"
    rf"|(?:go|go and) die\b{_HARM_TAIL}"
    rf"|drop dead|kys\b|kill (?:yourself|yourselves|urself|yourselfs){_HARM_TAIL}"
    r"|(?:burn|torch) (?:it|them|the place|this place|the building|your \w+|the \w+) "
    r"(?:all )?(?:down|to the ground)"
    rf"|deserves? to (?:burn|die|rot|crash|go bust|suffer){_HARM_TAIL}"
    rf"|(?:ojala|espero|tomara|torco)(?:\s+que)?{_GAP}{_HARM_ES_PT}"
    r"|que (?:se|os|les) (?:quemen|mueran|pudran|estrellen|hundan|arruinen|incendien)\b"
    r"|(?:quemaos|moriros|mueranse|pudranse|muerete|morram)\b"
    r"|(?:ardan|arded|arde|pudranse|pudrete|queimem|queime|ardam) (?:en el|no) infierno"
    r"|(?:vete|iros|idos|vayanse|vao|vai|va) (?:al|pro|para o|pra o|ao) infierno"
    rf"|(?:j'?espere|on espere|esperons|je souhaite)\s+(?:que|qu')\s*{_GAP}{_HARM_FR}"
    r"|(?:brulez|brule|brulent|pourrissez|allez) en enfer|allez (?:crever|mourir|bruler)|crevez\b"
    rf"|(?:hoffentlich|ich hoffe,?(?:\s+dass)?){_GAP}{_HARM_DE}"
    r"|(?:verreckt|krepiert|sterbt) (?:doch|alle|endlich)|fahr(?:t)? zur holle"
    r"|(?:brennt|brennen|schmort|schmoren) in der holle"
    r"|geht (?:doch )?(?:endlich )?(?:alle )?(?:pleite|sterben|zugrunde)"
    r"|(?:sollt|sollen|solltet) (?:alle )?(?:brennen|sterben|verrecken|krepieren)"
    r")"
)
# Word-start keywords without which a pattern cannot match (folded, in the entry syntax of
# policy.toml). The one pass over the text that finds the word cues finds these too, as hidden
# cues, and a pattern runs only on a text that has one: most mentions skip the costly patterns.
# Keep each list in step with its pattern (tests/routing/test_cue_table.py checks examples).
# fmt: off
_GATES: dict[str, tuple[str, ...]] = {
    "order_number": (  # and "#": order_number also matches "#A1234567" alone
        "order", "booking", "ticket", "pedido", "commande", "bestell", "reserva", "reservation",
        "buchung", "protocolo", "solicitud", "application", "claim", "policy", "poliza", "apolice",
        "sinistro", "expediente", "rma ", "dossier", "schadennummer", "aktenzeichen", "az ",
        "res ", "auftrag", "encomenda",
    ),
    "account_number": (
        "account", "acct", "acc ", "cuenta", "compte", "konto", "conta", "member", "customer",
        "kunden",
    ),
    "booking": (
        "booking", "reservation", "reserva", "reservierung", "buchung", "res ", "ref ",
        "reference", "referencia", "confirmation", "conf ", "dossier", "e-ticket", "billet",
        "bilhete", "pnr ", "record locator", "locator", "localizador", "bag tag", "tag ",
        "etiqueta", "etiquette", "gepackschein",
    ),
    "abuse": (
        "hope", "hoping", "wish", "pray", "may you", "may all your", "{burn|rot|roast} in hell",
        "go to hell", "die in a", "go die", "go and die", "drop dead", "kys ", "kill your",
        "kill ur", "burn {it|them|the|this|your}", "torch", "deserve", "ojala", "espero", "tomara",
        "torco", "que {se|os|les}", "{quemaos|moriros|mueranse|pudranse|muerete|morram} ",
        "{ardan|arded|pudrete|queimem|queime|ardam} ", "arde {en|no}",
        "{vete|iros|idos|vayanse|vao|vai|va} {al|pro|para o|pra o|ao} infierno",
        "j'espere", "on espere", "esperons", "je souhaite",
        "{brulez|brule|brulent|pourrissez|allez} en enfer", "allez {crever|mourir|bruler}",
        "crevez", "hoffentlich", "ich hoffe", "{verreckt|krepiert|sterbt} ", "{fahr|fahrt} zur",
        "{brennt|brennen|schmort|schmoren} in der",
        "geht {doch|endlich|alle|pleite|sterben|zugrunde}",
        "{sollt|sollen|solltet} {alle |}{brennen|sterben|verrecken|krepieren}",
    ),
}
# fmt: on
_HIDDEN = "#"  # prefix of a gate's hidden cue name
_CASED = "~"  # ...and of the gate of a cue's case-sensitive entries

# Harm cues that do not count when they occur only inside an abuse phrase.
ABUSE_MASKS = frozenset({"safety", "self_harm", "contamination", "allergy", "recall"})
ABUSE_CUE = "abuse"


def _fold_table() -> dict[int, str]:
    """Latin letters to their unaccented base, ligatures spelt out, typographic quotes plain."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        base = "".join(
            c for c in unicodedata.normalize("NFD", chr(code)) if not unicodedata.combining(c)
        )
        if base != chr(code) and base.isascii() and base.isalpha():
            table[code] = base
    extra = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O"}
    extra |= {"đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i"}
    extra |= dict.fromkeys("’‘‛ʼ`´", "'") | dict.fromkeys("“”„‟«»", '"')
    table.update({ord(k): v for k, v in extra.items()})
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """The form word cues are matched on: lower case, accents and typographic quotes folded."""
    low = text.lower()
    return low if low.isascii() else low.translate(_FOLD)


class CueTable(dict[str, re.Pattern[str]]):
    """Compiled word cues: name -> regex (search it on `fold(text)`), plus what `find_cues` needs
    to find them all in one pass: `scan`, one regex whose group i is cue `names[i]`; per cue the
    `exceptions` regex (exception phrases, or the cue in group 1) and the case-sensitive
    (`cased`) regex on the text as written."""

    __slots__ = ("cased", "exceptions", "names", "scan")

    def __init__(
        self,
        patterns: Mapping[str, re.Pattern[str]],
        scan: re.Pattern[str] | None,
        names: tuple[str, ...],
        exceptions: Mapping[str, re.Pattern[str]],
        cased: Mapping[str, re.Pattern[str]],
    ) -> None:
        super().__init__(patterns)
        self.scan = scan
        self.names = names
        self.exceptions = dict(exceptions)
        self.cased = dict(cased)


_SPACE, _HYPHEN, _ANY_WORD, _END = r"[\s-]+", r"[\s-]?", r"\w+", r"(?!\w)"
_NEVER = re.compile(r"(?!)")

_LEAD_BUDGET = 4000  # characters of regex a split leading group may copy
# An entry compiles to a sequence of tokens: a regex atom (str) per character, or a group: a tuple
# of alternatives, each itself a tuple of tokens.
Token = str | tuple
Tokens = tuple[Token, ...]


def _tokens(entry: str, macros: Mapping[str, Sequence[str]], cased: bool) -> Tokens:
    out: list[Token] = []
    i = 0
    while i < len(entry):
        ch = entry[i]
        if ch == "{":
            j = entry.index("}", i)
            body = entry[i + 1 : j]
            if body.startswith("_"):
                alts = [_norm(a.strip(), cased) for a in macros[body]]
            else:
                alts = body.split("|")
            out.append(tuple(dict.fromkeys(_tokens(a, macros, cased) for a in alts)))
            i = j + 1
            continue
        if ch == " ":
            if not out or out[-1] != _SPACE:
                out.append(_SPACE)
        elif ch == "-":
            out.append(_HYPHEN)
        elif ch == "'":
            out.append("'?")
        elif ch == "*":
            out.append(_ANY_WORD)
        else:
            out.append(re.escape(ch))
        i += 1
    return tuple(out)


@cache
def _atom(tok: Token) -> str:
    if isinstance(tok, str):
        return tok
    body = _trie(tok, prune=False)
    return f"(?:{body})" if body else ""


def _lead(seq: Tokens) -> Iterator[Tokens]:
    """The sequence with a leading group split by its first atoms, so that every alternative at
    the top of a regex starts with a literal character: the regex engine then skips it with one
    character comparison, where a group would be entered at every word start (5x slower)."""
    if not seq or isinstance(seq[0], str):
        yield seq
        return
    group, rest = seq[0], seq[1:]
    tails: dict[Token, list[Tokens]] = {}
    for alt in group:
        if alt:
            tails.setdefault(alt[0], []).append(alt[1:])
        else:
            yield from _lead(rest)
    if len(tails) * sum(len(_atom(t)) for t in rest) > _LEAD_BUDGET:
        # Splitting would copy a long rest (a food vocabulary...) once per first letter: the
        # regex would grow by tens of kilobytes for little speed. Keep the group.
        yield (tuple(alt for alt in group if alt), *rest)
        return
    for first, after in tails.items():
        middle = after[0] if len(after) == 1 else (tuple(after),)
        yield from _lead((first, *middle, *rest))


def _trie(seqs: Iterable[Tokens], prune: bool) -> str:
    """A regex matching any of the token sequences, common prefixes shared (much faster than a
    flat alternation: at each word start only the first atoms are tried). With `prune`, a
    sequence that is a prefix of another makes the longer one redundant (prefix matching)."""
    root: dict[Token, dict] = {}
    for seq in seqs:
        node = root
        for tok in seq:
            node = node.setdefault(tok, {})
        node[""] = {}
    return _emit(root, prune)


def _emit(node: dict[Token, dict], prune: bool) -> str:
    terminal = "" in node
    if terminal and prune:
        return ""
    alts = sorted(_atom(tok) + _emit(child, prune) for tok, child in node.items() if tok != "")
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return f"(?:{body})?" if terminal else body


def _top(seqs: Iterable[Tokens]) -> str:
    """The regex of a cue (or of the gate, or of exceptions): any sequence, at a word start."""
    return r"(?<!\w)" + _trie([lead for seq in seqs for lead in _lead(seq)], prune=True)


def _norm(entry: str, cased: bool) -> str:
    return entry.translate(_FOLD) if cased else fold(entry)


def _sequence(entry: str, macros: Mapping[str, Sequence[str]], cased: bool) -> Tokens:
    whole = entry.endswith(" ")
    seq = _tokens(_norm(entry.strip(), cased), macros, cased)
    return (*seq, _END) if whole else seq


def compile_words(vocab: Mapping[str, Sequence[str]]) -> CueTable:
    """One regex per cue: any listed word or phrase starting at a word boundary.

    Entries match as prefixes ("injur" finds "injured"); a trailing space asks for the whole
    word ("sue " finds "sue" but not "suede"). The module docstring lists the rest of the entry
    syntax: folding, spaces and hyphens, `{a|b}`, `{_macro}`, `*`, `!exception`, capitals.
    Compiling takes most of a second, so a vocabulary already compiled is reused.
    """
    return _compile(tuple((name, tuple(entries)) for name, entries in vocab.items()))


@lru_cache(maxsize=8)
def _compile(vocab_items: tuple[tuple[str, tuple[str, ...]], ...]) -> CueTable:
    vocab = dict(vocab_items)
    macros = {k: v for k, v in vocab.items() if k.startswith("_")}
    patterns: dict[str, re.Pattern[str]] = {}
    bodies: dict[str, str] = {}
    every: list[Tokens] = []
    exceptions: dict[str, re.Pattern[str]] = {}
    cased: dict[str, re.Pattern[str]] = {}
    for name, entries in vocab.items():
        if name.startswith("_") or not entries:
            continue
        plain: list[Tokens] = []
        unless: list[Tokens] = []
        capitals: list[Tokens] = []
        lower: list[Tokens] = []  # the capitals in lower case: their gate
        for entry in entries:
            if entry.startswith("!"):
                unless.append(_sequence(entry[1:], macros, cased=False))
            elif entry != entry.lower():
                capitals.append(_sequence(entry, macros, cased=True))
                lower.append(_sequence(entry.lower(), macros, cased=False))
            else:
                plain.append(_sequence(entry, macros, cased=False))
        if plain:
            bodies[name] = _top(plain)
            patterns[name] = re.compile(bodies[name])
            every.extend(plain)
        else:
            patterns[name] = _NEVER
        if unless:
            # Read left to right, an exception phrase wins over a cue word starting inside it,
            # and loses to a cue phrase starting before it ("caught fire the moment...").
            exceptions[name] = re.compile(f"{_top(unless)}|({bodies.get(name, '(?!)')})")
        if capitals:
            cased[name] = re.compile(_top(capitals))
            # Their lower-case form gates them: the case-sensitive pass runs only on a hit.
            bodies[_HIDDEN + _CASED + name] = _top(lower)
            every.extend(lower)
    for name, entries in _GATES.items():
        bodies[_HIDDEN + name] = _top(_sequence(e, macros, cased=False) for e in entries)
        every.extend(_sequence(e, macros, cased=False) for e in entries)
    names = tuple(bodies)
    scan = None
    if names:
        # At a word start where some cue matches (the gate), one optional group per cue says
        # which: one pass over the text instead of one per cue.
        groups = "".join(f"(?=({bodies[n]})|)" for n in names)
        scan = re.compile(f"(?={_top(every)})" + groups)
    return CueTable(patterns, scan, names, exceptions, cased)


def _blank(rx: re.Pattern[str], text: str) -> str:
    return rx.sub(lambda m: " " * len(m.group()), text)


def _present(name: str, text: str, words: Mapping[str, re.Pattern[str]]) -> bool:
    """Whether cue `name` matches `text` (folded) outside its exception phrases."""
    exceptions = getattr(words, "exceptions", {})
    if name in exceptions:
        return any(m.group(1) is not None for m in exceptions[name].finditer(text))
    return words[name].search(text) is not None


def find_cues(text: str, words: Mapping[str, re.Pattern[str]]) -> frozenset[str]:
    """Names of every cue present in `text`."""
    raw = clean(text)
    low = fold(raw)
    hits: set[str] = set()
    gated = False
    if isinstance(words, CueTable):
        gated = True
        if words.scan is not None:
            names = words.names
            for m in words.scan.finditer(low):
                hits.update(names[i] for i, g in enumerate(m.groups()) if g is not None)
        for name in hits & words.exceptions.keys():
            if not _present(name, low, words):
                hits.discard(name)
        for name, rx in words.cased.items():
            if name not in hits and _HIDDEN + _CASED + name in hits and rx.search(raw):
                hits.add(name)
    else:
        hits = {name for name, rx in words.items() if rx.search(low)}
    gates = {h[1:] for h in hits if h.startswith(_HIDDEN)}  # ("~legal" gates are spent)
    hits = {h for h in hits if not h.startswith(_HIDDEN)}
    skip = set()
    if _DIGIT.search(raw) is None:
        skip |= NEED_DIGIT
    if "@" not in raw:
        skip |= NEED_AT
    if gated:
        skip |= _GATES.keys() - gates
        if "#" in raw:
            skip.discard("order_number")
    found = {name for name, rx in PATTERNS.items() if name not in skip and rx.search(raw)}
    if ABUSE_CUE not in skip and ABUSE_WISH.search(low) is not None:
        hits.add(ABUSE_CUE)
        masked = _blank(ABUSE_WISH, low)
        for name in hits & ABUSE_MASKS:
            if name in words and not _present(name, masked, words):
                hits.discard(name)
    return frozenset(found | hits)


def find_cues_many(
    texts: Sequence[str], words: Mapping[str, re.Pattern[str]]
) -> list[frozenset[str]]:
    """`find_cues` of each text of a batch, each distinct text once: a stream repeats itself
    (retweets, copy-paste campaigns, an SMMS retrying), and the cues are the policy's dearest
    part. Joining the batch into one string for one regex pass was measured and saved nothing:
    the scan's cost is per character, not per call."""
    found = {t: find_cues(t, words) for t in dict.fromkeys(texts)}
    return [found[t] for t in texts]
