"""`python -m switchboard.data.synth --n N --seed S --out FILE`."""

import sys

from switchboard.data.synth.generator import main

sys.exit(main())
