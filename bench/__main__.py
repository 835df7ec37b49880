"""`python -m bench` / `make bench`: every benchmark, one after the other."""

from __future__ import annotations

from bench import featurisation, train_speed


def main() -> None:
    train_speed.run()
    featurisation.run()  # skips with a message without `make embed` or ../shared


if __name__ == "__main__":
    main()
