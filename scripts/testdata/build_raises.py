"""Error case: build() raises."""


def build():
    raise RuntimeError("weights file missing")
