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

from switchboard.data.synth.generator import SyntheticData, generate, main, summary, write
from switchboard.data.synth.mentions import spike_day
from switchboard.data.synth.world import build_roster

__all__ = ["SyntheticData", "build_roster", "generate", "main", "spike_day", "summary", "write"]
