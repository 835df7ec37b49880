"""The cue lexicons on real-looking mentions, in the five languages (routing/cues.py, [cues]).

One table row is (language, mention, cue, expected present?). Negatives are the look-alikes that
used to misfire or plausibly would: "charger" is no billing, "burn in hell" no fire, "this menu is
fire" no fire, a "Rückruf" is a call-back, not a recall.
"""

from __future__ import annotations

from collections import Counter

import pytest

from switchboard.ml.text import clean
from switchboard.routing.cues import (
    ABUSE_CUE,
    ABUSE_WISH,
    PATTERNS,
    compile_words,
    find_cues,
    fold,
)
from switchboard.routing.policy import load_policy
from switchboard.settings import Settings

POLICY = load_policy(Settings().policy_file)
WORDS = POLICY.words
LANGUAGES = ("en", "es", "fr", "de", "pt")

Y, N = True, False  # present or not

TABLE: dict[str, list[tuple[str, bool, str]]] = {
    "self_harm": [
        ("en", Y, "@PulseTel i just want it all to stop. everyone would be better off without me"),
        ("en", Y, "i dont want to be here anymore, cant do this"),
        ("en", Y, "@ShopNowUK i can't keep going, i want to end my life"),
        ("en", Y, "@BrightGrid I owe you £2,400, I can't sleep. I'd rather not wake up tomorrow"),
        ("en", N, "@SkyAir i'm dying 😂 pilot just said 'folks look left... more clouds'"),
        ("en", N, "@NovaDriveEV this update is killing it, 10/10"),
        ("en", N, "@JetMarlin I don't want to die of boredom in a middle seat for 11 hours lol"),
        ("en", N, "the Suicide Squad sequel is on the seatback screen @AeroNova 🍿"),
        ("es", Y, "@VoltaPowerES ya no puedo más, me quiero morir, no quiero seguir viviendo"),
        ("es", N, "@NovaDriveEV me quiero morir de la risa con vuestro anuncio 😂"),
        ("fr", Y, "@PixelForge je n'en peux plus, j'ai envie d'en finir"),
        ("fr", N, "@SkyLarkAir pour en finir avec ce dossier, merci de me rappeler"),
        ("de", Y, "@PixelForge Ich kann nicht mehr. Ich will nicht mehr leben."),
        ("de", N, "@NebulaPlay ich bin fast gestorben vor Lachen 😂"),
        ("pt", Y, "@Telvia não aguento mais, quero morrer"),
        ("pt", N, "@KoinCard quero morrer de vergonha, paguei a conta errada kkkk"),
    ],
    "safety": [
        ("en", Y, "@VoltMobile my charger exploded last night and scorched the desk"),
        ("en", Y, "@NovaDriveEV my Nova 2 started pouring smoke from under the rear seat"),
        ("en", Y, "@HarbourCU your ATM on Market St is sparking and smells of burning"),
        ("en", Y, "@NorthHeatGas I can smell gas in the kitchen since your engineer left"),
        ("en", Y, "@NovaDriveEV the car caught fire the moment I parked it"),
        ("en", Y, "@SkyLarkAir my husband collapsed on the jet bridge, staff told us to move"),
        ("en", N, "@AeroNova ok the new cabin smell is fire 🔥 like a spa in the sky"),
        ("en", N, "@BurgerBarn this new menu is fire, the tacos slap"),
        ("en", N, "@NorthBankHelp please fire whoever designed this app"),
        ("en", N, "@BlueFinAirways the ceasefire between me and your app lasted one day"),
        ("en", N, "@VoltMobile my app keeps crashing since the update"),
        ("en", N, "@StayWellHotels amazing hospitality at the Leeds hotel, thank you"),
        ("en", N, "@KoinCard so blessed to have found you guys #blessed"),
        ("en", N, "@SyncVaultHQ the hub came with a broken plug (no sparks, it snapped off)"),
        ("es", Y, "@ZephyrMotorsES me he quedado sin frenos en la autovía, casi me mato"),
        ("es", Y, "@VoltMobile el cargador soltó chispas y salió humo del enchufe"),
        ("es", N, "@AeroNova estoy que echo chispas con vuestro servicio"),
        ("fr", Y, "@NovaDriveEV ma voiture a pris feu dans le garage, les pompiers sont venus"),
        ("fr", N, "@KoinCard feu vert pour mon prêt, merci !"),
        ("de", Y, "@VoltMobile mein Handy-Akku ist explodiert"),
        ("de", N, "@NebulaPlay ich bin Feuer und Flamme für das neue Update"),
        ("pt", Y, "meu carro pegou fogo no estacionamento, comprei na loja de vocês @MeridianCars"),
        ("pt", N, "@Telvia o show de ontem foi fogo no parquinho kkkk"),
    ],
    "contamination": [
        ("en", Y, "@BurgerBarn found a piece of glass in my fries at the Leeds branch"),
        ("en", Y, "Dear @Tesco I found a hair in food I bought from you. It's not my hair"),
        ("en", Y, "@BurgerBarn there was a dead fly in my salad"),
        ("en", Y, "@CluckHouse the whole family has food poisoning since your wings last night"),
        ("en", N, "@PixelForge found a bug in the menu screen of the app"),
        ("en", N, "@KestrelAuto the charging port flap is cheap plastic and snapped off"),
        ("en", N, "@StayWellHotels the hairdresser in your lobby was lovely"),
        ("en", N, "@StayWellHotels there's a hair in the shower drain of room 311"),
        ("es", Y, "@NonnaPizza he encontrado un trozo de alambre en la pizza"),
        ("es", N, "@AeroNova tengo el pelo fatal después del vuelo jaja"),
        ("fr", Y, "@CluckHouse il y avait un morceau de plastique dur dans mon burger"),
        ("fr", N, "@SkyLarkAir un verre de vin offert à bord, merci"),
        ("de", Y, "@BurgerBarn ich hab im Salat einen kleinen Käfer gefunden. Lebendig."),
        ("de", N, "@VoltMobile das Glas meines Displays ist gesprungen"),
        ("pt", Y, "@GreenBowlCo achei um cabelo na minha salada"),
        ("pt", N, "@KoinCard cortei o cabelo hoje e o app ainda não funciona"),
    ],
    "allergy": [
        ("en", Y, "@SkyAir my daughter had an allergic reaction to the 'nut free' snack"),
        ("en", Y, "@BeanStackCoffee my son came out in hives after the 'dairy free' muffin"),
        ("en", Y, "@BurgerBarn we had to use her epipen after your 'nut free' cookie"),
        ("en", N, "@JetBlue I have allergies, can I bring 2 epipens on the flight?"),
        ("en", N, "@BurgerBarn are your fries gluten free?"),
        ("es", Y, "@NonnaPizza mi hijo tuvo una reacción alérgica con la pizza"),
        ("es", N, "@NonnaPizza ¿tenéis base sin gluten?"),
        ("fr", Y, "@Brightmart mon fils a fait une réaction après vos cookies"),
        ("de", Y, "@BurgerBarn meine Tochter hatte eine allergische Reaktion nach dem Burger"),
        ("pt", Y, "@GreenBowlCo tive uma reação alérgica depois do bowl"),
    ],
    "recall": [
        ("en", Y, "@KestrelAuto got a recall letter for the seatbelts on my 2021 Tour"),
        ("en", Y, "@ShopNowUK is this kettle part of the product recall?"),
        ("en", Y, "@NovaDriveEV my car was recalled last week and no one has called"),
        ("en", N, "@SkyLarkAir I don't recall ever being this annoyed at an airline"),
        ("en", N, "@BlueFinAirways as I recall you promised me a voucher"),
        ("es", Y, "@NonnaPizza ¿vuestra salsa está afectada por la retirada del mercado?"),
        ("fr", Y, "@Brightmart vos cookies font l'objet d'un rappel conso ?"),
        ("fr", N, "@SyncVaultHQ j'attends toujours un rappel de votre service client"),
        ("de", Y, "@KestrelAuto Laut KBA betrifft der Lenkungs-Rückruf auch mein Auto"),
        ("de", N, "@AtlasMutualDE ich warte seit drei Tagen auf einen Rückruf"),
        ("pt", Y, "@ZephyrMotors meu carro está no recall dos airbags?"),
    ],
    "legal": [
        ("en", Y, "@NorthBank I've spoken to my lawyer, see you in court"),
        ("en", Y, "@NovaDriveEV reporting you to trading standards tomorrow"),
        ("en", Y, "@SkyLarkAir Filed a complaint with the DOT today over the refund"),
        ("en", Y, "@AeroNova if this isn't fixed I'm filing a complaint with the FAA"),
        ("en", N, "@JetMarlin no courtesy call, nothing, just a cancelled flight"),
        ("en", N, "@ShopNow the food court at your Leeds mall is filthy"),
        ("en", N, "@KoinCard nice suede wallet in the new ad"),
        ("en", N, "@AeroNova be there on the dot at 9 or the gate closes?"),
        ("es", Y, "@JetMarlin mi abogado ya tiene todo. Nos vemos en los tribunales."),
        ("es", N, "@AeroNova por la alta demanda no quedan asientos en el vuelo"),
        ("fr", Y, "@NovaDriveEV j'ai saisi le médiateur de l'automobile et mon avocat"),
        ("fr", N, "@GreenBowlCo l'avocat de mon bowl était tout noir"),
        ("fr", N, "@SkyLarkAir je voudrais demander un changement de siège"),
        ("de", Y, "@MeridianBank Ich habe heute Beschwerde bei der BaFin eingereicht"),
        ("de", N, "@BurgerBarn das Gericht war kalt und die Pommes matschig"),
        ("pt", Y, "@AeroNova Já fiz reclamação na ANAC e no PROCON"),
        ("pt", N, "@KoinCard o processo de abertura de conta é muito lento"),
    ],
    "media": [
        ("en", Y, "Hi @SkyAir, reporter at the Herald here, can you comment on today's grounding?"),
        ("en", Y, "@NorthBankHelp this is going to the press, enough"),
        ("en", Y, "@united 3 hours on the tarmac and nobody tells us anything @CNN @FoxNews"),
        ("en", N, "@VoltMobile the pressure in my ears on the train was mad"),
        ("en", N, "@SkyLarkAir posted about it on social media, no reply"),
        ("es", Y, "@NorthBankHelp soy periodista de El Diario, ¿pueden confirmar el cierre?"),
        ("es", N, "@AeroNova lo intentaré por todos los medios"),
        ("fr", Y, "@BlueFinAirways Bonjour, je suis journaliste à Ouest Actu"),
        ("fr", N, "@SkyLarkAir je suis pressé, mon vol part dans 1h"),
        ("de", Y, "@NorthBank hier schreibt die Wirtschaftsredaktion, bitte um Stellungnahme"),
        ("pt", Y, "@AeroNova sou jornalista da Folha, podem comentar o atraso?"),
    ],
    "executive": [
        ("en", Y, "@JetMarlin @JetMarlinCEO Mr Halvorsen, your team has ignored 6 emails"),
        ("en", Y, "@ZephyrMotors Marcus, as CEO you need to know about this gearbox fault"),
        ("en", Y, "@AmericanAir I am emailing your executives since nobody answers"),
        ("en", N, "@USAirways Chairman's Preferred member here, where is my upgrade?"),
        ("en", N, "@AeroNova the executive lounge at Heathrow was lovely"),
        ("es", Y, "@MeridianBank quiero hablar con el consejero delegado, esto es inaceptable"),
        ("fr", Y, "@NovaDriveEV je vais écrire au PDG de NovaDrive"),
        ("de", Y, "@ZephyrMotorsDE ich schreibe jetzt an den Vorstand"),
        ("pt", Y, "@KoinCard quero falar com o diretor executivo"),
        ("pt", N, "@KoinCard o presidente falou na TV sobre juros hoje"),
    ],
    "billing": [
        ("en", Y, "@NorthBank you charged me twice for the same transfer, I want my money back"),
        ("en", Y, "@BlueFinAirways my refund still isn't back on my card"),
        ("en", Y, "@VoltaPower I've been overcharged on my last bill"),
        ("en", N, "@VoltMobile my charger stopped working after a week"),
        ("en", N, "@NovaDriveEV the charging station at Swindon is broken again"),
        ("en", N, "@KestrelAuto who's in charge of the service desk at Leeds?"),
        ("en", N, "@NorthBankHelp a billion thanks for the help today"),
        ("en", N, "@SyncVaultHQ your app is so resilient, love it"),
        ("es", Y, "@NorthBank ¿me pueden devolver el dinero? me cobraron dos veces"),
        ("es", N, "@AeroNova ¿qué cargo tiene la persona que me atendió?"),
        ("es", N, "@AeroNova ¿dónde está el mostrador para facturar la maleta?"),
        ("fr", Y, "@BrightGridFR prélevée deux fois ce mois-ci, je veux être remboursée"),
        ("fr", N, "@FibreLinkUK le débit internet est catastrophique ce soir"),
        ("de", Y, "@ZephyrDE Die Leasingrate wurde doppelt abgebucht, bitte um Rückerstattung"),
        ("pt", Y, "@KestrelAutoBR cobraram a parcela 2x no meu cartão, quero estorno"),
        ("pt", N, "@Telvia sem cobertura nenhuma no centro de Recife"),
    ],
    "fraud": [
        ("en", Y, "@NorthBank there's a purchase on my card I never made"),
        ("en", Y, "@NorthBankHelp unauthorised payment of £230 on my account last night"),
        ("en", Y, "@SafeHarbourIns someone's taken out a car policy in my name"),
        ("en", N, "@TripNestBooking scammers scammers scammers 🤡"),
        ("en", N, "@AeroNova you lot are a scam airline with a logo"),
        ("es", Y, "@MeridianBank tengo un cargo que no reconozco de 300€ en Amazon"),
        ("fr", Y, "@KestrelAuto_FR quelqu'un a utilisé ma carte enregistrée dans votre appli"),
        ("de", Y, "@AeroNova Ich wurde für eine Reise abgebucht, die ich nie gebucht habe"),
        ("de", N, "@VoltMobile das ist doch Betrug mit diesen Tarifen!"),
        ("pt", Y, "@MeridianBank alguém fez 3 pix da minha conta de madrugada"),
    ],
    "account_access": [
        ("en", Y, "@SkyLarkAir locked out of my account after the app update"),
        ("en", Y, "@KestrelAuto password reset email just never arrives"),
        ("en", Y, "@NorthBankHelp my account has been hacked"),
        ("en", N, "@VoltMobile life hack: restart the router twice"),
        ("en", N, "@SkyLarkAir follow my account for travel tips ✈️"),
        ("es", Y, "@MeridianCars no puedo entrar en mi área de cliente, contraseña incorrecta"),
        ("es", N, "@NonnaPizza la cuenta por favor 😂 qué cena"),
        ("fr", Y, "@VoltaPower mon compte a été piraté, je ne peux plus me connecter"),
        ("fr", N, "@VoltaPower mon compteur doit être remplacé, à qui m'adresser ?"),
        ("de", Y, "@NovaDriveEV komme nicht mehr in mein Konto rein, immer 'Passwort ungültig'"),
        ("pt", Y, "@KoinCard bloquearam minha conta sem aviso"),
        ("pt", N, "@ShopNowUK segue minha conta de viagens ✈️"),
    ],
    "booking": [
        ("en", Y, "@SkyAir need to change my booking, ref QX7P2L"),
        ("en", Y, "@BlueFinAirways name on my ticket is spelled wrong. booking ZP4RQ8"),
        ("en", Y, "@AeroNova what's my PNR? can't find the confirmation email"),
        ("en", N, "@AeroNova is the booking site down? keeps timing out"),
        ("en", N, "@SkyLarkAir flight SL482 to Manchester delayed AGAIN"),
        ("en", N, "@AeroNova promo code SAVE20 doesn't work"),
        ("es", Y, "@AeroNova mi reserva YH2P6R aparece como cancelada"),
        ("fr", Y, "@SkyLarkAir je dois modifier ma réservation pour lundi"),
        ("de", Y, "@SkyLarkAir ich muss meine Buchung auf Montag umbuchen"),
        ("de", N, "@RailSwiftTrains Gilt mein Ticket auch für den späteren Zug?"),
        ("pt", Y, "@AeroNova preciso remarcar minha reserva para sexta"),
    ],
    "luggage": [
        ("en", Y, "@SkyAir my bag never arrived in Boston"),
        ("en", Y, "@JetBlue so you guys lost my bag that had all my ski gear in it"),
        ("en", Y, "@BlueFinAirways luggage damaged, handle ripped clean off"),
        ("en", N, "@ShopNowUK love the new tote bag range"),
        ("en", N, "@AeroNova how many bags can I check on a basic fare?"),
        ("es", Y, "@SkyLarkAir me perdieron la maleta en Barajas"),
        ("es", N, "@AeroNova mala experiencia con el embarque"),
        ("fr", Y, "@JetMarlin ma valise est arrivée ouverte, il manque des affaires"),
        ("de", Y, "@AeroNova mein Koffer ist nicht angekommen"),
        ("pt", Y, "@BlueFinAirways mala extraviada no voo BF78 pra Lisboa"),
    ],
    "dm_request": [
        ("en", Y, "@AeroNova can you DM me? question about an invoice"),
        ("en", Y, "@SafeHarbourIns pls answer ur dms"),
        ("en", Y, "@HarbourCU sent you a direct message with my details"),
        ("en", N, "@VoltMobile my MP will hear about this"),
        ("en", N, "@NorthBankHelp had to move my 2 pm meeting for this call"),
        ("en", N, "@NorthBankHelp DM me for details on our crypto signals 💰"),
        ("es", Y, "@AeroNova os he mandado un MD con mis datos"),
        ("fr", Y, "@KoinCard je vous ai envoyé un message privé"),
        ("de", Y, "@ZephyrMotorsDE Vertragsnummer schicke ich per DM"),
        ("de", N, "@ShopNowUK gibt es das auch bei dm?"),
        ("pt", Y, "@KoinCard chamei vocês no privado"),
    ],
    "regulated": [
        ("en", Y, "@JetMarlin i need to cancel for medical reasons, got a doctor's letter"),
        ("en", Y, "@AtlasMutual my mum passed away last month, what happens to her policy?"),
        ("en", Y, "@ShieldWise car was written off 6 weeks ago, still no settlement offer"),
        ("en", N, "@AtlasMutual I claim you are the best insurer in town"),
        ("en", N, "@KoinCard we passed our driving test today!"),
        ("es", Y, "@SafeHarbourIns abrí un siniestro hace un mes y nadie me contesta"),
        ("fr", Y, "@CoverNestFR mon sinistre est bloqué depuis 3 semaines"),
        ("de", Y, "@AtlasMutualDE mein Schadensfall wird seit Wochen nicht bearbeitet"),
        ("pt", Y, "@SafeHarbourIns qual o prazo pra abrir sinistro depois do acidente?"),
    ],
    "request": [
        ("en", Y, "@ShopNow please can someone look at this"),
        ("en", Y, "@AeroNova can you move me to an aisle seat"),
        ("en", Y, "@NorthBankHelp need help with my card"),
        ("en", N, "@ShopNowUK super helpful staff at the Lyon store"),
        ("en", N, "@SkyLarkAir worst airline in europe"),
        ("es", Y, "@AeroNova ayuda por favor, no puedo facturar"),
        ("fr", Y, "@SkyLarkAir pouvez-vous m'aider svp"),
        ("de", Y, "@NovaDriveEV bitte um Rückmeldung"),
        ("de", N, "@BeanStackCoffee der Kaffee war bitter"),
        ("pt", Y, "@KoinCard alguém me ajuda pfv"),
    ],
    "urgent": [
        ("en", Y, "@SkyAir stranded in Denver, need a hotel ASAP"),
        ("en", Y, "@VoltaPower urgent: no power and a newborn at home"),
        ("en", Y, "@BrightGridEnergy emergency, the meter is buzzing"),
        ("en", N, "@AeroNova lovely flight, no rush replying"),
        ("en", N, "@KoinCard thanks for sorting it"),
        ("es", Y, "@AeroNova necesito una respuesta urgente"),
        ("fr", Y, "@SkyLarkAir répondez-moi au plus vite"),
        ("de", Y, "@NorthBankHelp bitte dringend melden"),
        ("de", N, "@NovaDriveEV Sofortüberweisung geht nicht"),
        ("pt", Y, "@KoinCard preciso de ajuda imediatamente"),
    ],
    "abuse": [
        ("en", Y, "@BurgerBarn hope your HQ burns to the ground lol"),
        ("en", Y, "@NovaDriveEV go die in a fire. EVs are a scam and so are you"),
        ("en", Y, "@BlueFinAirways hope your whole fleet goes down in flames"),
        ("en", N, "@SkyLarkAir hope you're all ok after the emergency landing today"),
        ("en", N, "@JetMarlin hope the crew get home safe after today"),
        ("es", Y, "@BlueFinAirways ojalá se os caiga el chiringuito entero, sinvergüenzas"),
        ("es", N, "@AeroNova ojalá me devuelvan el dinero pronto"),
        ("fr", Y, "@NovaDriveEV bande de clowns, j'espère que vous allez couler"),
        ("fr", N, "@SkyLarkAir j'espère que vous allez me rembourser"),
        ("de", Y, "@ZephyrMotorsDE Ihr seid so eine Witzfirma, geht doch endlich pleite"),
        ("pt", Y, "@AeroNova tomara que essa empresa vá à falência"),
        ("pt", N, "@AeroNova tomara que o voo não atrase"),
    ],
}
CASES = [(lang, text, cue, present) for cue, rows in TABLE.items() for lang, present, text in rows]


def _id(case: tuple[str, str, str, bool]) -> str:
    lang, text, cue, present = case
    return f"{cue}-{lang}-{'yes' if present else 'no'}-{text[:30]}"


@pytest.mark.parametrize(("lang", "text", "cue", "present"), CASES, ids=[_id(c) for c in CASES])
def test_cue_table(lang: str, text: str, cue: str, present: bool) -> None:
    """Check that each cue is found in its real-looking mentions and not in its look-alikes."""
    assert lang in LANGUAGES
    cues = sorted(find_cues(text, WORDS))
    assert (cue in cues) is present, cues


def test_every_policy_cue_has_positives_and_negatives_in_every_language() -> None:
    """Check that every listed cue has 3+ positives, 2+ negatives and a positive per language."""
    listed = set(POLICY.get("crisis", "cues")) | set(POLICY.get("private", "cues"))
    word_cues = {c for c in listed if c in WORDS} | {"request", "urgent", ABUSE_CUE}
    positives = Counter(c for _, _, c, p in CASES if p)
    negatives = Counter(c for _, _, c, p in CASES if not p)
    languages = {(c, lang) for lang, _, c, p in CASES if p}
    for cue in sorted(word_cues):
        assert positives[cue] >= 3 and negatives[cue] >= 2, cue
        assert all((cue, lang) in languages for lang in LANGUAGES), cue


@pytest.mark.parametrize(
    "text",
    [
        "@BurgerBarn hope your HQ burns to the ground lol",
        "@NovaDriveEV go die in a fire 😂",
        "@BlueFinAirways hope your whole fleet goes down in flames",
        "@HomeHive burn in hell, all of you",
        "@BurgerBarn hope your kitchens go up in flames, poisoners",
        "@AeroNova ojalá se os incendie la oficina",
        "@NovaDriveEV j'espère que vos voitures vont exploser",
        "@ZephyrMotorsDE hoffentlich brennt eure Fabrik ab",
        "@AeroNova tomara que seus aviões peguem fogo",
    ],
)
def test_abuse_wish_is_not_a_safety_report(text: str) -> None:
    """Check that wishing the brand harm is the abuse cue and raises no crisis cue (RUBRIC R2)."""
    cues = find_cues(text, WORDS)
    crisis = set(POLICY.get("crisis", "cues"))
    assert ABUSE_CUE in cues and not cues & crisis, sorted(cues)


def test_a_real_hazard_next_to_abuse_still_counts() -> None:
    """Check that a safety word outside the abuse phrase still raises the safety cue."""
    cues = find_cues("@VoltMobile my charger exploded and burned my hand. burn in hell", WORDS)
    assert {"safety", ABUSE_CUE} <= cues


@pytest.mark.parametrize(
    ("text", "billing"),
    [
        ("@VoltMobile my charger exploded", False),
        ("@NovaDriveEV the charging port is loose", False),
        ("@VoltMobile the charger you sent charges my phone really slowly", False),
        ("@VoltMobile you charged me twice for the charger", True),
    ],
)
def test_charger_is_not_billing(text: str, billing: bool) -> None:
    """Check that "charge" is no billing prefix: chargers and charging are not money."""
    assert ("billing" in find_cues(text, WORDS)) is billing


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("@SkyAir need to change my booking, ref QX7P2L", True),
        ("@JetMarlin paid for 2 extra-legroom seats on booking LQ9V4T", True),
        ("@MeridianCars handover cancelled twice now, reservation MRD-7731", True),
        ("@AeroNova PNR QXPTLM, can you check the seats?", True),
        ("@BlueFinAirways bag came off the belt broken. tag BF 661204", True),
        ("@SkyLarkAir flight SL482 delayed again", False),
        ("@AeroNova booking PLEASE, the site is down", False),
        ("@AeroNova promo code SAVE20 doesn't work", False),
    ],
)
def test_booking_codes_next_to_a_booking_word(text: str, found: bool) -> None:
    """Check that a booking code counts only in capitals and digits after a booking word."""
    assert (PATTERNS["booking"].search(clean(text)) is not None) is found


def test_pattern_gates_never_hide_a_match() -> None:
    """Check that skipping a pattern on texts without its keyword never loses a match."""
    texts = [text for _, text, _, _ in CASES] + [
        "where is my order #A1234567?",
        "order NP-7731920 never arrived",
        "pedido CH-ES-11029 llegó frío",
        "Auftragsnr. 55-2091 fehlt",
        "acc no. KA-0098123, late fee",
        "policy no AM-7742190. cancelled in May",
        "réf SIM-55021 toujours rien",
        "dossier n° NB-PRO-5521 bloqué",
        "Localizador R8TQ4M, estoy en Lisboa",
        "hope u burn lol",
        "fahrt zur Hölle",
        "que se pudran todos",
    ]
    for text in texts:
        raw = clean(text)
        cues = find_cues(text, WORDS)
        for name in ("order_number", "account_number", "booking"):
            direct = PATTERNS[name].search(raw) is not None
            needs_digit = name != "booking" and not any(ch.isdigit() for ch in raw)
            assert not direct or needs_digit or name in cues, (name, text)
        if ABUSE_WISH.search(fold(raw)):
            assert ABUSE_CUE in cues, text


def test_accents_case_and_typographic_quotes_are_folded() -> None:
    """Check that cues match whatever the accents, capitals or apostrophes of the text."""
    assert "safety" in find_cues("@SkyLarkAir mon fils a été BLESSÉ à bord", WORDS)
    assert "safety" in find_cues("@SkyLarkAir mon fils a ete blesse a bord", WORDS)
    assert "self_harm" in find_cues("@PulseTel I don’t want to be alive anymore", WORDS)
    assert "account_access" in find_cues(
        "@AquaLineWater no me deja entrar, contrasena incorrecta", WORDS
    )


def test_entry_syntax_alternatives_macros_wildcards_and_exceptions() -> None:
    """Check that the entry syntax works: {a|b|}, {_macro}, *, !exception, capitals, whole words."""
    table = compile_words(
        {
            "_thing": ["glass", "hair"],
            "x": [
                "{found|got} {a |}* in {my|the} soup",
                "{_thing} in it",
                "fire ",
                "caught fire",
                "!fire {sale|the}",
            ],
            "y": ["DOT "],
        }
    )
    assert find_cues("found a fly in the soup", table) >= {"x"}
    assert find_cues("found fly in my soup", table) >= {"x"}
    assert "x" in find_cues("there was hair in it", table)
    assert "x" in find_cues("the kitchen is on fire", table)
    assert "x" not in find_cues("big fire sale today", table)
    assert "x" in find_cues("the van caught fire the moment we parked", table)
    assert "x" not in find_cues("the firestick is broken", table)
    assert "y" in find_cues("complaint with the DOT", table)
    assert "y" not in find_cues("on the dot", table)
