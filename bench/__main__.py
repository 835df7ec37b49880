"""`python -m bench` / `make bench`: every benchmark, one after the other."""

from __future__ import annotations

from bench import train_speed


def main() -> None:
    train_speed.run()


if __name__ == "__main__":
    main()
