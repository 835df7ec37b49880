"""Deterministic synthetic social-care cases and a care-team roster: the embedded default data.

Why it exists: the project must train, serve and be tested without any real data, so this
module plants, on purpose, the structure the product has to find: twelve care intents with a
realistic imbalance, noisy social text (typos, shouting, emoji, handles, links, order numbers,
some Spanish/French/German/Portuguese), the labels established social-care practice would give
(reply or not, public or private, escalation tier), heavy-tailed authors with influencers and
repeat ragers, a daily cycle with a weekend crisis spike, and a roster whose skills really
change how fast and how well cases were handled.

Plainly: accuracy on synthetic data proves the plumbing, not the quality. A model that scores
well here has only found what this file put in; judge quality on the real datasets.

Same (n, seed, start) gives byte-identical files: every draw comes from one seeded numpy
Generator (and a `random.Random` seeded from it for the per-row text), never from the clock.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import string
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from switchboard.data.schema import CARE_INTENTS, COLUMN_NAMES, SENTIMENTS

DEFAULT_START = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 60
LABEL_NOISE = 0.03
CASE_FORMATS: tuple[str, ...] = (".csv", ".jsonl", ".parquet")

# --------------------------------------------------------------------------------------------
# Who writes, where, when

# Chatter, complaints and questions dominate real brand mentions; crisis is rare but costly.
INTENT_WEIGHTS: dict[str, float] = {
    "chatter": 0.21,
    "complaint": 0.19,
    "question": 0.15,
    "order_issue": 0.09,
    "praise": 0.08,
    "account_billing": 0.07,
    "outage": 0.05,
    "spam": 0.05,
    "troll": 0.04,
    "product_idea": 0.03,
    "sales_lead": 0.03,
    "crisis": 0.01,
}
CHANNELS: dict[str, float] = {
    "twitter": 0.42,
    "facebook": 0.20,
    "instagram": 0.15,
    "review": 0.10,
    "forum": 0.13,
}
LANGUAGES: dict[str, float] = {"en": 0.92, "es": 0.03, "fr": 0.02, "de": 0.015, "pt": 0.015}
# UTC hour of day: quiet while both the Americas and Europe sleep, busy in their overlap.
HOUR_WEIGHTS = np.array(
    [5, 4, 3.5, 3, 2.5, 2.5, 3, 4, 5, 6, 6.5, 7, 7.5, 8, 8, 8, 8, 7.5, 7.5, 8, 8.5, 8, 7, 6]
)
# P(negative, neutral, positive) given the intent: consistent with it, but never certain.
SENTIMENT_P: dict[str, tuple[float, float, float]] = {
    "complaint": (0.85, 0.13, 0.02),
    "question": (0.15, 0.75, 0.10),
    "account_billing": (0.50, 0.48, 0.02),
    "outage": (0.80, 0.19, 0.01),
    "praise": (0.02, 0.08, 0.90),
    "product_idea": (0.05, 0.55, 0.40),
    "sales_lead": (0.01, 0.60, 0.39),
    "crisis": (0.97, 0.03, 0.00),
    "spam": (0.02, 0.68, 0.30),
    "troll": (0.90, 0.10, 0.00),
    "chatter": (0.15, 0.50, 0.35),
    "order_issue": (0.65, 0.34, 0.01),
}
# Mentions that land in the weekend crisis spike, by intent (everything else is unaffected).
SPIKE_SHARE: dict[str, float] = {"crisis": 0.40, "outage": 0.30, "complaint": 0.03}
SPIKE_HOURS = 36
# Share of troll / complaint mentions written by the handful of repeat ragers.
RAGE_SHARE: dict[str, float] = {"troll": 0.45, "complaint": 0.08}


@dataclass(frozen=True, slots=True)
class Brand:
    """A fictional brand: what people buy from it and what can go dangerously wrong."""

    name: str
    short: str
    handle: str
    ceo: str
    products: tuple[str, ...]
    services: tuple[str, ...]  # what can go down for everyone at once
    hazards: tuple[str, ...]


BRANDS: tuple[Brand, ...] = (
    Brand(
        "Nimbus Mobile",
        "Nimbus",
        "NimbusMobile",
        "Dana Whitfield",
        ("phone", "router", "SIM card", "5G plan", "fibre box", "Nimbus app"),
        ("network", "5G", "broadband", "Nimbus app", "mobile data"),
        (
            "my phone battery caught fire on the nightstand",
            "the router started smoking and sparking",
            "the charger melted and burned my hand",
        ),
    ),
    Brand(
        "Kettle & Co",
        "Kettle",
        "KettleAndCo",
        "Marco Bellini",
        ("coffee machine", "meal kit", "blender", "oven", "smoothie", "sandwich"),
        ("Kettle app", "online ordering", "delivery tracking", "website", "card payments"),
        (
            "we all got food poisoning from the meal kit",
            "there was broken glass in my sandwich",
            "the coffee machine exploded and burned my arm",
        ),
    ),
    Brand(
        "Skyvale Air",
        "Skyvale",
        "SkyvaleAir",
        "Priya Raman",
        ("flight", "seat upgrade", "checked bag", "booking", "lounge pass", "Skyvale app"),
        ("online check-in", "Skyvale app", "booking site", "mobile boarding passes"),
        (
            "a trolley injured my daughter on the flight",
            "the cabin filled with smoke and nobody told us anything",
            "I was hurt when an overhead bin fell on me",
        ),
    ),
)
BRAND_WEIGHTS = np.array([0.45, 0.35, 0.20])
SPIKE_BRAND = 0  # the network brand: a weekend of fires and outages

# --------------------------------------------------------------------------------------------
# What they write. Slots in braces are filled per row; {order} and {account} mark a number.

EN_TEMPLATES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "my {product} stopped working {time} and nobody is helping",
        "been waiting {time} for someone to fix my {product}. not good enough",
        "the {product} I got is already broken, I want a refund",
        "your support line hung up on me twice today, still no fix for my {product}",
        "charged {amount} for a {product} that doesn't even work properly",
        "the latest {product} update made everything worse, can't even log in",
        "third time reporting this: {product} keeps failing. please sort it out",
        "staff at the {place} store were rude and didn't help with my {product}",
        "still no reply to my email about the faulty {product}",
        "maybe your CEO should try calling your support line about a broken {product}",
    ),
    "question": (
        "how do I reset my {product}?",
        "does the {product} work in {place}?",
        "what time does the {place} store open on {weekday}?",
        "is there a student discount on the {product}?",
        "can I use my {product} abroad?",
        "quick question: how long does delivery to {place} usually take?",
        "where can I find the manual for the {product}?",
        "do you ship to {place}?",
        "is the {product} compatible with the old one?",
    ),
    "account_billing": (
        "why was I charged {amount} twice this month? account {account}",
        "I was billed {amount} after cancelling, account {account}, please refund",
        "can't log in to my account, the password reset email never arrives",
        "my direct debit of {amount} failed, what happens to account {account}?",
        "need to update the card on my account {account}",
        "the invoice for {amount} doesn't match my plan, acct {account}",
        "someone changed the email on my account, I didn't do this!",
        "how do I get a refund of {amount} back to my card?",
    ),
    "outage": (
        "is {brand} down? nothing works in {place} {time}",
        "{service} down for everyone in {place}? nothing {time}",
        "total outage here in {place}, is there an ETA?",
        "app keeps crashing and the website won't load, are you having problems?",
        "no {service} in {place} {time}. what's going on",
        "everything's down again, third outage this month",
        "{service} completely dead {time}",
    ),
    "praise": (
        "huge thanks to the {brand} team, my {product} was sorted in minutes",
        "love my new {product}! best purchase this year",
        "shoutout to the staff at the {place} store, super helpful",
        "the new {product} is amazing, well done",
        "great service today, {brand} you rock",
        "fixed in one call, that's how it's done",
    ),
    "product_idea": (
        "would love a dark mode in the {product} app",
        "please add an option to pause my {product} subscription",
        "idea: let us pick delivery slots for the {product}",
        "you should bring back the old {product} design, it was better",
        "feature request: split payments for the {product}",
        "it would be nice if the {product} came in more colours",
    ),
    "sales_lead": (
        "looking to buy {n} {products} for our office, who do I talk to?",
        "do you do business plans? we're a team of {n} in {place}",
        "interested in upgrading to the premium {product}, can someone call me?",
        "what's the bulk price for {n} {products}?",
        "opening a new office in {place} and need {n} {products}, any corporate deals?",
    ),
    "crisis": (
        "{hazard}. this is a serious safety issue",
        "{hazard}. I've contacted my lawyer",
        "{hazard}. going to the press with this",
        "{hazard}. I'm writing to your CEO {ceo} today",
        "I'm going to sue {brand} over this, see you in court",
        "I'm a journalist at {outlet} looking into complaints about the {product}, call me",
        "going to the press about how {brand} treated me",
        "tagging the CEO {ceo} because nobody else listens: {hazard}",
        "a staff member was injured at the {place} store and nobody called an ambulance",
        "this is a safety hazard: the {product} sparks when plugged in",
    ),
    "spam": (
        "get 10k followers FAST {url}",
        "make $500/day from home, click {url}",
        "free {product} giveaway!!! claim here {url}",
        "crypto signals that actually work {url} dm me",
        "cheap {product} 90% off {url}",
        "check my profile for exclusive deals {url}",
    ),
    "troll": (
        "{brand} is run by clowns lol",
        "imagine paying for {brand} 🤡",
        "who even uses {brand} anymore, absolute garbage company",
        "your social media intern is an idiot",
        "hope {brand} goes bankrupt lmao",
        "lol at anyone who trusts {brand}",
    ),
    "chatter": (
        "just had a {product} and now I'm ready for {weekday}",
        "anyone else watching the game tonight?",
        "my cat sat on my {product} again 😂",
        "good morning from {place}!",
        "{weekday} mood: coffee and {brand} ads everywhere",
        "saw a {brand} billboard in {place} today haha",
        "throwback to when I got my first {product}",
        "the {brand} jingle is stuck in my head again",
    ),
    "order_issue": (
        "where is my order {order}? it was due {time}",
        "order {order} arrived damaged, the {product} is cracked",
        "wrong item in order {order}, I ordered a {product}",
        "my order {order} says delivered but nothing is here",
        "can I change the address on order {order}?",
        "order {order} still not shipped after {days} days",
        "my {product} never arrived, tracking hasn't updated {time}",
    ),
}
# Complaints with nothing to act on: practice is to let them be (actionable False).
VENTING_TEMPLATES: tuple[str, ...] = (
    "honestly {brand} is the worst, never again",
    "why is every {brand} experience this painful",
    "{brand} really said customer service is optional huh",
    "done with {brand}. switching the moment my contract ends",
    "ugh. {brand}. that's the tweet",
    "{brand} never fails to disappoint",
)
# Too short to tell: any intent may be posted like this, which keeps accuracy below 100 %.
VAGUE_TEMPLATES: tuple[str, ...] = (
    "hello??",
    "can someone look at this",
    "seriously?",
    "check your DMs",
    "👀",
    "anyone else?",
    "well that happened",
    "please reply",
)
VAGUE_SHARE = 0.04
# Borderline wording two intents share: the annotator could have said either, so both do.
SHARED_TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("complaint", "order_issue"): (
        "still waiting for my {product}, {time}",
        "delivery was a mess again, the {product} came late",
    ),
    ("question", "account_billing"): (
        "how do I change my plan?",
        "where can I see my bill online?",
    ),
    ("chatter", "praise"): (
        "my new {product} arrived today",
        "{brand} hits different on a {weekday}",
    ),
    ("troll", "complaint"): ("{brand} is a joke", "what a useless company"),
    ("outage", "complaint"): ("my {product} isn't working {time}", "everything is so slow {time}"),
    ("product_idea", "question"): (
        "any plans for a family version of the {product}?",
        "will the {product} ever get an offline mode?",
    ),
    ("sales_lead", "question"): (
        "do you have plans for small businesses?",
        "how much is the premium {product}?",
    ),
    ("crisis", "complaint"): (
        "the {product} got really hot, is that normal?",
        "thinking about legal action over this",
    ),
    ("spam", "chatter"): ("follow me back pls", "new video up on my channel, go watch"),
}
SHARED_SHARE = 0.10
# Extra number appended to some mentions of other intents: any number means "take it private".
SHARED_BY_INTENT: dict[str, tuple[tuple[str, ...], ...]] = {
    intent: tuple(t for pair, t in SHARED_TEMPLATES.items() if intent in pair)
    for intent in CARE_INTENTS
}
NUMBER_SUFFIX_SHARE: dict[str, float] = {"complaint": 0.08, "question": 0.05, "crisis": 0.10}
NUMBER_SUFFIXES: tuple[str, ...] = ("(order {order})", "order {order}", "ref {order}")

FOREIGN_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "complaint": (
            "mi {product} no funciona desde ayer y nadie me ayuda",
            "llevo una semana esperando una solución para mi {product}",
        ),
        "question": ("¿cómo puedo restablecer mi {product}?", "¿hacen envíos a {place}?"),
        "account_billing": (
            "me han cobrado {amount} dos veces, cuenta {account}",
            "no puedo entrar en mi cuenta, ¿qué hago?",
        ),
        "outage": (
            "¿está caído {brand}? no funciona nada en {place}",
            "{service} sin servicio en {place} desde esta mañana",
        ),
        "praise": (
            "¡me encanta mi nuevo {product}! gracias {brand}",
            "atención de diez en la tienda de {place}",
        ),
        "product_idea": (
            "estaría genial poder pausar la suscripción del {product}",
            "sugerencia: modo oscuro en la app",
        ),
        "sales_lead": (
            "queremos comprar {n} {product} para la oficina, ¿con quién hablo?",
            "¿tienen planes para empresas? somos {n} personas",
        ),
        "crisis": (
            "mi {product} se incendió anoche, esto es peligroso",
            "voy a demandar a {brand}, ya hablé con mi abogado",
        ),
        "spam": ("gana dinero desde casa {url}", "{product} gratis aquí {url}"),
        "troll": ("{brand} es una empresa de payasos jaja", "qué empresa más basura 🤡 {brand}"),
        "chatter": ("¡buenos días desde {place}!", "viendo el partido con un {product} jaja"),
        "order_issue": ("¿dónde está mi pedido {order}?", "el pedido {order} llegó roto"),
    },
    "fr": {
        "complaint": (
            "mon {product} ne marche plus depuis hier et personne ne répond",
            "toujours aucune solution pour mon {product}, c'est long",
        ),
        "question": ("comment réinitialiser mon {product} ?", "vous livrez à {place} ?"),
        "account_billing": (
            "j'ai été débité de {amount} deux fois, compte {account}",
            "impossible de me connecter à mon compte",
        ),
        "outage": (
            "{brand} est en panne ? plus rien ne marche à {place}",
            "{service} en panne à {place} depuis ce matin",
        ),
        "praise": (
            "j'adore mon nouveau {product}, merci {brand} !",
            "service au top au magasin de {place}",
        ),
        "product_idea": (
            "ce serait bien de pouvoir suspendre l'abonnement {product}",
            "idée : un mode sombre dans l'appli",
        ),
        "sales_lead": (
            "nous voulons acheter {n} {product} pour le bureau, qui contacter ?",
            "vous avez des offres entreprise ? on est {n}",
        ),
        "crisis": (
            "mon {product} a pris feu cette nuit, c'est dangereux",
            "je vais porter plainte contre {brand}, mon avocat est prévenu",
        ),
        "spam": ("gagnez de l'argent facilement {url}", "{product} gratuit ici {url}"),
        "troll": ("{brand} c'est une bande de clowns lol", "quelle boîte nulle 🤡 {brand}"),
        "chatter": ("bonjour de {place} !", "tranquille devant le match avec un {product}"),
        "order_issue": ("où est ma commande {order} ?", "commande {order} arrivée cassée"),
    },
    "de": {
        "complaint": (
            "mein {product} funktioniert seit gestern nicht und niemand hilft",
            "warte seit einer Woche auf eine Lösung für mein {product}",
        ),
        "question": ("wie setze ich mein {product} zurück?", "liefert ihr nach {place}?"),
        "account_billing": (
            "mir wurden {amount} doppelt abgebucht, Konto {account}",
            "kann mich nicht in mein Konto einloggen",
        ),
        "outage": (
            "ist {brand} down? in {place} geht gar nichts",
            "{service} geht in {place} seit heute morgen nicht",
        ),
        "praise": (
            "liebe mein neues {product}, danke {brand}!",
            "super Service im Laden in {place}",
        ),
        "product_idea": (
            "wäre toll, wenn man das {product} Abo pausieren könnte",
            "Vorschlag: Dark Mode in der App",
        ),
        "sales_lead": (
            "wir möchten {n} {product} fürs Büro kaufen, wer ist zuständig?",
            "habt ihr Firmentarife? wir sind {n} Leute",
        ),
        "crisis": (
            "mein {product} hat letzte Nacht gebrannt, das ist gefährlich",
            "ich verklage {brand}, mein Anwalt ist informiert",
        ),
        "spam": ("schnell Geld verdienen {url}", "gratis {product} hier {url}"),
        "troll": ("{brand} ist ein Haufen Clowns lol", "was für eine Mistfirma 🤡 {brand}"),
        "chatter": ("guten Morgen aus {place}!", "schaue das Spiel mit einem {product}"),
        "order_issue": ("wo ist meine Bestellung {order}?", "Bestellung {order} kam kaputt an"),
    },
    "pt": {
        "complaint": (
            "meu {product} parou de funcionar ontem e ninguém ajuda",
            "uma semana esperando solução para o meu {product}",
        ),
        "question": ("como faço para reiniciar o {product}?", "vocês entregam em {place}?"),
        "account_billing": (
            "fui cobrado {amount} duas vezes, conta {account}",
            "não consigo entrar na minha conta",
        ),
        "outage": (
            "{brand} caiu? nada funciona em {place}",
            "{service} fora do ar em {place} desde de manhã",
        ),
        "praise": (
            "amei meu novo {product}! obrigado {brand}",
            "atendimento nota dez na loja de {place}",
        ),
        "product_idea": (
            "seria ótimo poder pausar a assinatura do {product}",
            "sugestão: modo escuro no app",
        ),
        "sales_lead": (
            "queremos comprar {n} {product} para o escritório, com quem falo?",
            "vocês têm planos empresariais? somos {n} pessoas",
        ),
        "crisis": (
            "meu {product} pegou fogo ontem à noite, isso é perigoso",
            "vou processar a {brand}, já falei com meu advogado",
        ),
        "spam": ("ganhe dinheiro em casa {url}", "{product} grátis aqui {url}"),
        "troll": ("{brand} é uma empresa de palhaços kkkk", "que empresa lixo 🤡 {brand}"),
        "chatter": ("bom dia de {place}!", "vendo o jogo com um {product} kkk"),
        "order_issue": ("cadê meu pedido {order}?", "pedido {order} chegou quebrado"),
    },
}
# Tone words around the template: sentiment is learnable from the text, not only from intent.
OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "negative": ("ugh", "seriously", "so frustrated.", "unbelievable.", "not happy.", "wow."),
        "neutral": ("hi", "hello", "hey", "quick one:"),
        "positive": ("yay", "so happy!", "brilliant,", "honestly,"),
    },
    "es": {"negative": ("qué vergüenza.",), "neutral": ("hola",), "positive": ("genial,",)},
    "fr": {"negative": ("franchement nul.",), "neutral": ("bonjour",), "positive": ("génial,",)},
    "de": {"negative": ("echt ärgerlich.",), "neutral": ("hallo",), "positive": ("klasse,",)},
    "pt": {"negative": ("que absurdo.",), "neutral": ("olá",), "positive": ("show,",)},
}
CLOSERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "negative": ("absolutely ridiculous", "sort it out", "disgraceful", "so annoying"),
        "neutral": ("thanks", "cheers", "any info appreciated"),
        "positive": ("thanks so much", "you're the best", "keep it up"),
    },
    "es": {"negative": ("fatal",), "neutral": ("gracias",), "positive": ("¡mil gracias!",)},
    "fr": {"negative": ("inadmissible",), "neutral": ("merci",), "positive": ("merci beaucoup !",)},
    "de": {"negative": ("unmöglich",), "neutral": ("danke",), "positive": ("vielen Dank!",)},
    "pt": {"negative": ("péssimo",), "neutral": ("obrigado",), "positive": ("valeu demais!",)},
}
EMOJI: dict[str, tuple[str, ...]] = {
    "negative": ("😡", "🤬", "😤", "👎", "🙄", "😩"),
    "neutral": ("🤔", "👀", "🙂", "📱"),
    "positive": ("😍", "🙌", "❤️", "😊", "👏", "🎉"),
}
HASHTAGS: dict[str, tuple[str, ...]] = {
    "complaint": ("#fail", "#customerservice", "#notimpressed"),
    "question": ("#help", "#question"),
    "account_billing": ("#billing", "#overcharged"),
    "outage": ("#outage", "#down", "#noservice"),
    "praise": ("#happycustomer", "#love", "#thankyou"),
    "product_idea": ("#feedback", "#idea"),
    "sales_lead": ("#business", "#b2b"),
    "crisis": ("#safety", "#recall"),
    "spam": ("#giveaway", "#free", "#crypto", "#followback"),
    "troll": ("#boycott", "#clowns", "#lol"),
    "chatter": ("#mood", "#weekend", "#coffee"),
    "order_issue": ("#wheresmyorder", "#delivery"),
}
PLACES: tuple[str, ...] = (
    "Boston", "Leeds", "Manila", "Madrid", "Lyon", "Munich", "Porto", "Austin",
    "Glasgow", "Cebu", "Denver", "Bristol", "São Paulo", "Seville",
)  # fmt: skip
TIMES: tuple[str, ...] = (
    "since this morning", "for 3 hours", "since yesterday", "all weekend", "since 8am",
    "for two days", "for over an hour", "since Monday", "last week",
)  # fmt: skip
WEEKDAYS: tuple[str, ...] = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip
OUTLETS: tuple[str, ...] = ("the Daily Ledger", "Channel 9 News", "TechBeat", "Metro Herald")
SPAM_DOMAINS: tuple[str, ...] = ("bit.ly", "cutt.ly", "free-prizes.example", "win-now.example")
CURRENCY: dict[str, tuple[str, ...]] = {
    "en": ("$", "£"),
    "es": ("€",),
    "fr": ("€",),
    "de": ("€",),
    "pt": ("R$", "€"),
}
COUNTS: tuple[int, ...] = (2, 3, 5, 10, 12, 20, 25, 50, 100, 200, 500)
STRETCHY = frozenset({"so", "please", "why", "no", "love", "what", "really", "still", "again"})
ORDER_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

# --------------------------------------------------------------------------------------------
# The care team: follow-the-sun shifts; units with different skills, tiers and speed.

CARE = ("complaint", "question", "order_issue", "account_billing")
COMMUNITY = ("praise", "product_idea", "question")
BILLING = ("account_billing", "order_issue")
TECH = ("outage", "complaint")
SALES = ("sales_lead", "product_idea")
COMMS = ("crisis", "complaint")

_ROSTER_TABLE: tuple[tuple, ...] = (
    # id, name, timezone, shift start, end, languages, skills, tiers, capacity, median s
    ("r01", "Ana Lima", "America/New_York", 9, 17, ("en", "pt"), CARE, (2, 3), 6, 300),
    ("r02", "Ben Carter", "America/New_York", 9, 17, ("en",), CARE, (2, 3), 5, 900),
    ("r03", "Chloe Park", "America/New_York", 9, 17, ("en",), COMMUNITY, (2,), 8, 180),
    ("r04", "Diego Ruiz", "America/New_York", 10, 18, ("en", "es"), BILLING, (3,), 5, 420),
    ("r05", "Erin Walsh", "America/New_York", 8, 16, ("en",), TECH, (3, 4), 4, 600),
    ("r06", "Femi Adeyemi", "America/New_York", 9, 17, ("en",), SALES, (4,), 3, 1200),
    ("r07", "Grace Liu", "America/New_York", 9, 17, ("en",), COMMS, (4, 5), 3, 240),
    ("r08", "Hugo Moreau", "America/New_York", 17, 1, ("en", "fr"), CARE, (2, 3), 6, 540),
    ("r09", "Isla Murray", "Europe/London", 8, 16, ("en",), CARE, (2, 3), 6, 360),
    ("r10", "Jonas Weber", "Europe/London", 9, 17, ("en", "de"), TECH, (3, 4), 4, 480),
    ("r11", "Katie O'Neill", "Europe/London", 8, 16, ("en",), COMMUNITY, (2,), 8, 150),
    ("r12", "Luca Bianchi", "Europe/London", 12, 20, ("en", "fr"), BILLING, (3,), 5, 700),
    ("r13", "Maya Shah", "Europe/London", 9, 17, ("en",), COMMS, (4, 5), 3, 200),
    ("r14", "Noah Fischer", "Europe/London", 9, 17, ("en", "de"), SALES, (4,), 3, 900),
    ("r15", "Olga Sanz", "Europe/Madrid", 9, 17, ("es", "en"), CARE, (2, 3), 6, 400),
    ("r16", "Pedro Alves", "America/Sao_Paulo", 9, 17, ("pt", "es", "en"), CARE, (2, 3), 5, 650),
    ("r17", "Quinn Reyes", "Asia/Manila", 8, 16, ("en",), CARE, (2, 3), 8, 240),
    ("r18", "Rosa Santos", "Asia/Manila", 16, 0, ("en",), BILLING, (3,), 6, 330),
    ("r19", "Sam Cruz", "Asia/Manila", 22, 6, ("en",), TECH, (3, 4), 5, 500),
    ("r20", "Tala Bautista", "Asia/Manila", 8, 16, ("en",), COMMUNITY, (2,), 10, 120),
)
# How the historical routing picked a responder: mostly a skilled one, sometimes anyone.
ROUTE_SKILLED = 0.72
ROUTE_TIER = 0.15
TIER_SPEED = {1: 1.0, 2: 1.3, 3: 1.0, 4: 1.2, 5: 0.35}  # crisis gets answered fastest
OFF_SHIFT_SLOWDOWN = 3.5
CSAT_SURVEYED = 0.45


@dataclass(slots=True)
class SyntheticData:
    """Cases in the schema of `datasets/schema.py` plus the roster that handled them."""

    cases: pd.DataFrame
    roster: list[dict]


def build_roster() -> list[dict]:
    """The fixed care team: JSON-shaped dicts whose keys are `switchboard.routing.types.Responder`'s."""
    keys = (
        "id", "name", "timezone", "shift_start_hour", "shift_end_hour", "languages", "skills",
        "tiers", "capacity", "median_response_s",
    )  # fmt: skip
    roster = []
    for row in _ROSTER_TABLE:
        entry = dict(zip(keys, row, strict=True))
        for key in ("languages", "skills", "tiers"):
            entry[key] = list(entry[key])
        entry["median_response_s"] = float(entry["median_response_s"])
        roster.append(entry)
    return roster


# --------------------------------------------------------------------------------------------
# Drawing the non-text columns (vectorised)


def _draw_categorical(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    p = np.array(list(weights.values()), dtype=float)
    return rng.choice(np.array(list(weights), dtype=object), size=n, p=p / p.sum())


def _spike_day(start: datetime) -> int:
    """First Saturday at least five weeks in: a normal baseline comes before the burst."""
    return next(d for d in range(35, DAYS) if (start.weekday() + d) % 7 == 5)


def _draw_offsets(
    rng: np.random.Generator, intents: np.ndarray, brands: np.ndarray, start: datetime
) -> np.ndarray:
    """Seconds after `start`; moves part of the crisis/outage traffic into one weekend burst."""
    n = len(intents)
    days = np.arange(DAYS)
    weekend = (start.weekday() + days) % 7 >= 5
    day_w = np.where(weekend, 0.85, 1.0) * (1.0 + 0.3 * days / DAYS)
    day = rng.choice(DAYS, size=n, p=day_w / day_w.sum())
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    offsets = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)
    share = np.array([SPIKE_SHARE.get(i, 0.0) for i in intents])
    spike = rng.random(n) < share
    window = _spike_day(start) * 86_400 + 9 * 3_600
    offsets[spike] = window + rng.integers(0, SPIKE_HOURS * 3_600, int(spike.sum()))
    brands[spike] = SPIKE_BRAND
    return offsets


@dataclass(slots=True)
class Authors:
    ids: list[str]
    followers: np.ndarray
    verified: np.ndarray
    rager: np.ndarray


def _draw_authors(rng: np.random.Generator, intents: np.ndarray) -> Authors:
    """Zipf-like reuse of a pool, ~1 % influencers, and a few ragers who only post anger."""
    n = len(intents)
    pool = max(20, n // 2)
    p = 1.0 / (np.arange(pool) + 10.0)
    who = rng.choice(pool, size=n, p=p / p.sum())
    number = rng.permutation(pool)  # ids do not reveal how active an author is
    followers = np.minimum(rng.lognormal(math.log(180), 1.6, pool), 99_999).astype(np.int64)
    influencer = rng.random(pool) < 0.01
    influencer[rng.integers(0, min(pool, 50))] = True  # at least one active celebrity fan
    big = np.exp(rng.uniform(math.log(1e5), math.log(5e6), pool)).astype(np.int64)
    followers = np.where(influencer, big, followers)
    verified = np.where(influencer, rng.random(pool) < 0.6, rng.random(pool) < 0.003)
    n_ragers = min(12, max(3, n // 800))
    rager = rng.random(n) < np.array([RAGE_SHARE.get(i, 0.0) for i in intents])
    which = rng.integers(0, n_ragers, n)
    rager_followers = rng.lognormal(math.log(60), 1.0, n_ragers).astype(np.int64)
    author = np.where(rager, pool + which, number[who])
    return Authors(
        ids=[f"a{a:06d}" for a in author.tolist()],
        followers=np.where(rager, rager_followers[which], followers[who]),
        verified=np.where(rager, False, verified[who]),
        rager=rager,
    )


def _draw_sentiments(
    rng: np.random.Generator, intents: np.ndarray, rager: np.ndarray
) -> np.ndarray:
    cum = np.cumsum(np.array([SENTIMENT_P[i] for i in intents]), axis=1)
    pick = (rng.random(len(intents))[:, None] >= cum).sum(axis=1).clip(0, 2)
    out = np.array(SENTIMENTS, dtype=object)[pick]
    out[rager] = "negative"
    return out


# --------------------------------------------------------------------------------------------
# Writing the text (per row, kept tiny)


def _order_number(rnd: random.Random) -> str:
    number = f"{rnd.choice(ORDER_LETTERS)}{rnd.randrange(1_000_000, 10_000_000)}"
    return "#" + number if rnd.random() < 0.7 else number


def _account_number(rnd: random.Random) -> str:
    if rnd.random() < 0.5:
        return f"ACC-{rnd.randrange(1_000_000, 10_000_000)}"
    return f"{rnd.randrange(1000, 10000)}-{rnd.randrange(1000, 10000)}-{rnd.randrange(10, 100)}"


def _url(rnd: random.Random) -> str:
    slug = "".join(rnd.choices(string.ascii_letters, k=rnd.randint(5, 8)))
    return f"https://{rnd.choice(SPAM_DOMAINS)}/{slug}"


def _amount(rnd: random.Random, language: str) -> str:
    cents = rnd.choice(("00", "99", "50"))
    return f"{rnd.choice(CURRENCY[language])}{rnd.randrange(5, 300)}.{cents}"


def _plural(word: str) -> str:
    return word + ("es" if word.endswith(("s", "x", "ch")) else "s")


@dataclass(slots=True)
class Row:
    """What the text of one mention depends on."""

    intent: str
    language: str
    sentiment: str
    brand: Brand
    rager: bool


SLOTS: dict[str, Callable[[random.Random, Row], str]] = {
    "product": lambda rnd, row: rnd.choice(row.brand.products),
    "products": lambda rnd, row: _plural(rnd.choice(row.brand.products)),
    "brand": lambda rnd, row: rnd.choice((row.brand.name, row.brand.short)),
    "ceo": lambda rnd, row: row.brand.ceo,
    "service": lambda rnd, row: rnd.choice(row.brand.services),
    "hazard": lambda rnd, row: rnd.choice(row.brand.hazards),
    "days": lambda rnd, row: str(rnd.randint(3, 14)),
    "place": lambda rnd, row: rnd.choice(PLACES),
    "time": lambda rnd, row: rnd.choice(TIMES),
    "weekday": lambda rnd, row: rnd.choice(WEEKDAYS),
    "outlet": lambda rnd, row: rnd.choice(OUTLETS),
    "n": lambda rnd, row: str(rnd.choice(COUNTS)),
    "amount": lambda rnd, row: _amount(rnd, row.language),
    "order": lambda rnd, row: _order_number(rnd),
    "account": lambda rnd, row: _account_number(rnd),
    "url": lambda rnd, row: _url(rnd),
}
NUMBER_SLOTS = frozenset({"order", "account"})
_FIELDS: dict[str, tuple[str, ...]] = {}


def _fields(template: str) -> tuple[str, ...]:
    """Slot names of a template, parsed once: the per-row cost must stay tiny."""
    found = _FIELDS.get(template)
    if found is None:
        found = tuple(f for _, f, _, _ in string.Formatter().parse(template) if f)
        _FIELDS[template] = found
    return found


def _fill(rnd: random.Random, template: str, row: Row) -> tuple[str, bool]:
    """The template with its slots filled, and whether it now carries an order/account number."""
    fields = _fields(template)
    text = template.format(**{f: SLOTS[f](rnd, row) for f in fields})
    return text, not NUMBER_SLOTS.isdisjoint(fields)


def _choose_template(rnd: random.Random, row: Row) -> tuple[str, bool]:
    """(template, venting): venting complaints are the ones nobody needs to answer."""
    if row.language != "en":
        return rnd.choice(FOREIGN_TEMPLATES[row.language][row.intent]), False
    u = rnd.random()
    if u < VAGUE_SHARE:
        return rnd.choice(VAGUE_TEMPLATES), False
    if u < VAGUE_SHARE + SHARED_SHARE and not row.rager:
        return rnd.choice(rnd.choice(SHARED_BY_INTENT[row.intent])), False
    if row.intent == "complaint" and rnd.random() < (0.7 if row.rager else 0.25):
        return rnd.choice(VENTING_TEMPLATES), True
    return rnd.choice(EN_TEMPLATES[row.intent]), False


def _typo(rnd: random.Random, text: str) -> str:
    """Swap two neighbouring letters or drop one, inside a plain word (never a number)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rnd.choice(candidates)
    w, j = words[i], rnd.randrange(1, len(words[i]) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rnd.random() < 0.5 else w[:j] + w[j + 1 :]
    return " ".join(words)


def _elongate(rnd: random.Random, text: str) -> str:
    """'so' -> 'sooooo', or shouted punctuation when no stretchy word is there."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.lower() in STRETCHY]
    if not candidates:
        return text + rnd.choice(("!!!", "!!!!", "???", "?!?!"))
    i = rnd.choice(candidates)
    w = words[i]
    k = max((p for p, c in enumerate(w) if c in "aeiouy"), default=len(w) - 1)
    words[i] = w[: k + 1] + w[k] * rnd.randint(2, 5) + w[k + 1 :]
    return " ".join(words)


def _tone(rnd: random.Random, text: str, row: Row) -> str:
    if rnd.random() < 0.3:
        text = f"{rnd.choice(OPENERS[row.language][row.sentiment])} {text}"
    if rnd.random() < 0.3:
        text = f"{text} {rnd.choice(CLOSERS[row.language][row.sentiment])}"
    return text


def _shout_and_slip(rnd: random.Random, text: str, row: Row) -> str:
    if rnd.random() < (0.12 if row.language == "en" else 0.05):
        text = _typo(rnd, text)
    if rnd.random() < 0.08:
        text = _elongate(rnd, text)
    caps = 0.35 if row.rager else (0.08 if row.sentiment == "negative" else 0.02)
    return text.upper() if rnd.random() < caps else text


def _decorate(rnd: random.Random, text: str, row: Row) -> str:
    """Handles, emoji, hashtags and stray links: social noise a classifier must see past."""
    where = rnd.random()
    if where < 0.55:
        text = f"@{row.brand.handle} {text}"
    elif where < 0.70:
        text = f"{text} @{row.brand.handle}"
    if rnd.random() < (0.6 if row.intent == "spam" else 0.3):
        text = f"{text} {rnd.choice(EMOJI[row.sentiment]) * rnd.randint(1, 3)}"
    if rnd.random() < 0.22:
        tag = rnd.choice(HASHTAGS[row.intent]) if rnd.random() < 0.65 else f"#{row.brand.short}"
        text = f"{text} {tag}"
    if row.intent != "spam" and rnd.random() < 0.02:
        text = f"{text} https://pic.example/{''.join(rnd.choices(string.ascii_letters, k=6))}"
    return text


def compose(rnd: random.Random, row: Row) -> tuple[str, bool, bool]:
    """(text, has_number, venting) of one mention."""
    template, venting = _choose_template(rnd, row)
    text, has_number = _fill(rnd, template, row)
    if not has_number and rnd.random() < NUMBER_SUFFIX_SHARE.get(row.intent, 0.0):
        suffix, _ = _fill(rnd, rnd.choice(NUMBER_SUFFIXES), row)
        text, has_number = f"{text} {suffix}", True
    text = _shout_and_slip(rnd, _tone(rnd, text, row), row)
    return _decorate(rnd, text, row), has_number, venting


# --------------------------------------------------------------------------------------------
# Labels: social-care practice, then human inconsistency on top

NO_REPLY_INTENTS = frozenset({"spam", "troll", "chatter"})
PRIVATE_INTENTS = frozenset({"account_billing", "order_issue"})
INTENT_TIER = {
    "crisis": 5,
    "outage": 4,
    "sales_lead": 4,
    "complaint": 3,
    "order_issue": 3,
    "account_billing": 3,
    "question": 2,
    "praise": 2,
    "product_idea": 2,
}
# Which intent a tired annotator confuses each one with.
CONFUSABLE = {
    "complaint": "order_issue",
    "order_issue": "complaint",
    "question": "account_billing",
    "account_billing": "question",
    "chatter": "praise",
    "praise": "chatter",
    "troll": "complaint",
    "spam": "chatter",
    "outage": "complaint",
    "product_idea": "question",
    "sales_lead": "question",
    "crisis": "complaint",
}


@dataclass(slots=True)
class Labels:
    intent: np.ndarray
    sentiment: np.ndarray
    actionable: np.ndarray
    reply_action: np.ndarray
    tier: np.ndarray


def practice_labels(
    intents: np.ndarray, sentiments: np.ndarray, has_number: np.ndarray, venting: np.ndarray
) -> Labels:
    """The ground truth the routing policy encodes, before any annotator noise."""
    actionable = ~(np.isin(intents, list(NO_REPLY_INTENTS)) | venting)
    private = np.isin(intents, list(PRIVATE_INTENTS)) | has_number
    reply = np.where(~actionable, "none", np.where(private, "private", "public")).astype(object)
    tier = np.array([INTENT_TIER.get(i, 1) for i in intents], dtype=np.int64)
    tier = np.where((intents == "question") & has_number, 3, tier)  # not a simple question
    tier = np.where(actionable, tier, 1)
    return Labels(intents.copy(), sentiments.copy(), actionable, reply, tier)


def add_label_noise(rng: np.random.Generator, labels: Labels, rate: float = LABEL_NOISE) -> None:
    """Perturb one label on ~`rate` of the rows, the way human handling is inconsistent."""
    n = len(labels.intent)
    noisy = rng.random(n) < rate
    kind = rng.integers(0, 4, n)
    flip = rng.random(n)
    for i in np.flatnonzero(noisy).tolist():
        if kind[i] == 0:
            labels.intent[i] = CONFUSABLE[labels.intent[i]]
        elif kind[i] == 1:
            step = -1 if flip[i] < 0.5 else 1
            pos = min(2, max(0, SENTIMENTS.index(labels.sentiment[i]) + step))
            labels.sentiment[i] = SENTIMENTS[pos]
        elif kind[i] == 2 and labels.actionable[i]:
            labels.tier[i] = min(5, max(2, labels.tier[i] + (-1 if flip[i] < 0.5 else 1)))
        else:
            _flip_reply(labels, i, flip[i])


def _flip_reply(labels: Labels, i: int, u: float) -> None:
    """Someone answered what needed no answer, ignored a case, or took it to DM anyway."""
    if not labels.actionable[i]:
        labels.actionable[i], labels.reply_action[i], labels.tier[i] = True, "public", 2
    elif u < 0.3:
        labels.actionable[i], labels.reply_action[i], labels.tier[i] = False, "none", 1
    else:
        labels.reply_action[i] = "public" if labels.reply_action[i] == "private" else "private"


# --------------------------------------------------------------------------------------------
# Outcomes: who answered, how fast, did it work, was the customer happy


def _on_shift_table(roster: list[dict], start: datetime) -> np.ndarray:
    """[hour since start, responder] -> on shift, with each responder's real local time."""
    hours = [start + timedelta(hours=h) for h in range(DAYS * 24 + SPIKE_HOURS)]
    table = np.zeros((len(hours), len(roster)), dtype=bool)
    for r, person in enumerate(roster):
        zone = ZoneInfo(person["timezone"])
        local = np.array([t.astimezone(zone).hour for t in hours])
        lo, hi = person["shift_start_hour"], person["shift_end_hour"]
        table[:, r] = (local >= lo) & (local < hi) if lo < hi else (local >= lo) | (local < hi)
    return table


def _membership(roster: list[dict], key: str, values: Sequence) -> np.ndarray:
    return np.array([[v in person[key] for person in roster] for v in values], dtype=bool)


def _first_nonempty(masks: Sequence[np.ndarray]) -> np.ndarray:
    """Per row, the first candidate mask that has anyone in it."""
    out = masks[-1].copy()
    done = np.zeros(len(out), dtype=bool)
    for mask in masks:
        use = mask.any(axis=1) & ~done
        out[use] = mask[use]
        done |= use
    return out


def _pick(rng: np.random.Generator, mask: np.ndarray, weight: np.ndarray) -> np.ndarray:
    cum = np.cumsum(mask * weight, axis=1)
    r = rng.random(len(mask)) * cum[:, -1]
    return (cum <= r[:, None]).sum(axis=1)


def assign_outcomes(
    rng: np.random.Generator,
    labels: Labels,
    languages: np.ndarray,
    hour_slot: np.ndarray,
    roster: list[dict],
    start: datetime,
) -> dict[str, pd.Series | np.ndarray]:
    """Noisy historical routing and its results; skill and language really change them."""
    n = len(languages)
    intent_idx = np.array([CARE_INTENTS.index(i) for i in labels.intent])
    lang_idx = np.array([tuple(LANGUAGES).index(lang) for lang in languages])
    skill = _membership(roster, "skills", CARE_INTENTS)[intent_idx]
    speaks = _membership(roster, "languages", tuple(LANGUAGES))[lang_idx]
    tier_ok = _membership(roster, "tiers", range(6))[labels.tier]
    on = _on_shift_table(roster, start)[hour_slot]
    anyone = np.ones_like(on)
    routes = (
        _first_nonempty([skill & speaks & tier_ok & on, skill & speaks & tier_ok, skill & tier_ok,
                         tier_ok & on, tier_ok, anyone]),
        _first_nonempty([tier_ok & on, tier_ok, anyone]),
        _first_nonempty([on, anyone]),
    )  # fmt: skip
    u = rng.random(n)
    mode = np.where(u < ROUTE_SKILLED, 0, np.where(u < ROUTE_SKILLED + ROUTE_TIER, 1, 2))
    mask = np.where((mode == 0)[:, None], routes[0], np.where((mode == 1)[:, None], *routes[1:]))
    capacity = np.array([p["capacity"] for p in roster], dtype=float)
    who = _pick(rng, mask, capacity)
    rows = np.arange(n)
    matched, fluent, present = skill[rows, who], speaks[rows, who], on[rows, who]
    median = np.array([p["median_response_s"] for p in roster])[who]
    speed = np.array([TIER_SPEED[t] for t in labels.tier.tolist()])
    slow = np.where(present, 1.0, OFF_SHIFT_SLOWDOWN)
    first = np.round(median * speed * slow * rng.lognormal(0.0, 0.6, n), 1)
    p_resolved = 0.28 + 0.42 * matched + 0.18 * fluent - 0.08 * (labels.tier == 5) - 0.05 * ~present
    resolved = rng.random(n) < np.clip(p_resolved, 0.03, 0.97)
    mood = 2.1 + 1.8 * resolved - 0.5 * np.log10(first / 300.0) + rng.normal(0.0, 0.7, n)
    csat = np.clip(np.round(mood), 1, 5)
    surveyed = rng.random(n) < CSAT_SURVEYED
    handled = labels.actionable
    ids = np.array([p["id"] for p in roster], dtype=object)[who]
    return {
        "responder_id": pd.Series(np.where(handled, ids, None), dtype="str"),
        "first_response_s": np.where(handled, first, np.nan),
        "resolved": pd.array(np.where(handled, resolved, None), dtype="boolean"),
        "csat": np.where(handled & surveyed, csat, np.nan),
    }


# --------------------------------------------------------------------------------------------
# Putting it together


def _check_args(n: int, seed: int, start: datetime | None) -> datetime:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if start is None:
        return DEFAULT_START
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start must be timezone-aware (e.g. ...+00:00), got {start!r}")
    return start.astimezone(UTC)


def _texts(rng: np.random.Generator, rows: list[Row]) -> tuple[list[str], np.ndarray, np.ndarray]:
    rnd = random.Random(int(rng.integers(0, 2**63)))
    composed = [compose(rnd, row) for row in rows]
    texts = [c[0] for c in composed]
    return (
        texts,
        np.array([c[1] for c in composed], dtype=bool),
        np.array([c[2] for c in composed], dtype=bool),
    )


def _frame(
    columns: dict[str, np.ndarray], labels: Labels, outcomes: dict, start: datetime
) -> pd.DataFrame:
    """Schema dtypes, time order, then ids in that order (syn-000001 is the oldest)."""
    n = len(labels.intent)
    text = {
        k: pd.Series(columns[k], dtype="str")
        for k in ("text", "channel", "brand", "author_id", "language")
    }
    frame = pd.DataFrame(
        {
            "case_id": "",
            "text": text["text"],
            "created_at": pd.to_datetime(
                int(start.timestamp()) + columns["offset"], unit="s", utc=True
            ),
            "channel": text["channel"],
            "brand": text["brand"],
            "author_id": text["author_id"],
            "author_followers": columns["author_followers"].astype(np.int64),
            "author_verified": columns["author_verified"].astype(bool),
            "language": text["language"],
            "split": pd.Series([None] * n, dtype="str"),  # let the split rule decide
            "intent": pd.Series(labels.intent, dtype="str"),
            "sentiment": pd.Series(labels.sentiment, dtype="str"),
            "actionable": labels.actionable.astype(bool),
            "reply_action": pd.Series(labels.reply_action, dtype="str"),
            "tier": labels.tier.astype(np.int64),
            **outcomes,
        }
    )
    frame = frame.sort_values("created_at", kind="stable").reset_index(drop=True)
    frame["case_id"] = pd.Series([f"syn-{i:06d}" for i in range(1, n + 1)], dtype="str")
    return frame[list(COLUMN_NAMES)]


def generate(n: int, seed: int = 0, start: datetime | None = None) -> SyntheticData:
    """`n` labelled cases in time order, deterministic in (n, seed, start)."""
    start = _check_args(n, seed, start)
    rng = np.random.default_rng(seed)
    intents = _draw_categorical(rng, INTENT_WEIGHTS, n)
    brands = rng.choice(len(BRANDS), size=n, p=BRAND_WEIGHTS)
    offsets = _draw_offsets(rng, intents, brands, start)  # may move mentions to the spike brand
    authors = _draw_authors(rng, intents)
    sentiments = _draw_sentiments(rng, intents, authors.rager)
    languages = _draw_categorical(rng, LANGUAGES, n)
    channels = _draw_categorical(rng, CHANNELS, n)
    rows = [
        Row(i, lang, s, BRANDS[b], r)
        for i, lang, s, b, r in zip(
            intents, languages, sentiments, brands.tolist(), authors.rager.tolist(), strict=True
        )
    ]
    texts, has_number, venting = _texts(rng, rows)
    labels = practice_labels(intents, sentiments, has_number, venting)
    add_label_noise(rng, labels)
    roster = build_roster()
    outcomes = assign_outcomes(rng, labels, languages, offsets // 3_600, roster, start)
    columns = {
        "text": np.array(texts, dtype=object),
        "offset": offsets,
        "channel": channels,
        "brand": np.array([BRANDS[b].name for b in brands.tolist()], dtype=object),
        "author_id": np.array(authors.ids, dtype=object),
        "author_followers": authors.followers,
        "author_verified": authors.verified,
        "language": languages,
    }
    return SyntheticData(cases=_frame(columns, labels, outcomes, start), roster=roster)


def write(data: SyntheticData, cases_path: Path, roster_path: Path | None) -> None:
    """Cases as .csv, .jsonl or .parquet (by suffix); the roster as a JSON list."""
    cases_path, suffix = Path(cases_path), Path(cases_path).suffix.lower()
    if suffix not in CASE_FORMATS:
        raise ValueError(
            f"cases path {cases_path}: unsupported suffix {suffix!r}, use one of {CASE_FORMATS}"
        )
    cases_path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        data.cases.to_csv(cases_path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    elif suffix == ".jsonl":
        data.cases.to_json(
            cases_path, orient="records", lines=True, date_format="iso", force_ascii=False
        )
    else:
        data.cases.to_parquet(cases_path, index=False)
    if roster_path is not None:
        roster_path = Path(roster_path)
        roster_path.parent.mkdir(parents=True, exist_ok=True)
        roster_path.write_text(json.dumps(data.roster, indent=2, ensure_ascii=False) + "\n")


def summary(cases: pd.DataFrame) -> str:
    """One line per intent with counts, and the shares that matter for routing."""
    counts = cases["intent"].value_counts()
    lines = [f"{len(cases)} cases, {int(cases['actionable'].sum())} actionable"]
    lines += [f"  {intent:<16}{counts.get(intent, 0):>8}" for intent in CARE_INTENTS]
    lines.append(
        "  reply_action: " + ", ".join(f"{k}={v}" for k, v in _counts(cases, "reply_action"))
    )
    lines.append("  tier:       " + ", ".join(f"{k}={v}" for k, v in _counts(cases, "tier")))
    return "\n".join(lines)


def _counts(cases: pd.DataFrame, column: str) -> list[tuple[object, int]]:
    return sorted(cases[column].value_counts().items(), key=lambda kv: str(kv[0]))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m switchboard.data.synth --n 1000 --seed 1 --out cases.csv [--roster roster.json]`."""
    parser = argparse.ArgumentParser(prog="python -m switchboard.data.synth", description=__doc__)
    parser.add_argument("--n", type=int, required=True, help="number of cases")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", type=Path, required=True, help="cases file: .csv/.jsonl/.parquet")
    parser.add_argument("--roster", type=Path, help="also write the roster JSON here")
    args = parser.parse_args(argv)
    try:
        data = generate(args.n, seed=args.seed)
        write(data, args.out, args.roster)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(data.cases))
    print(
        f"wrote {args.out}"
        + (f" and {args.roster} ({len(data.roster)} responders)" if args.roster else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
