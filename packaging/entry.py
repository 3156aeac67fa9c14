"""The frozen app's one program, ``timbre-studio``.

    timbre-studio [studio options]          the desktop studio (python -m studio)
    timbre-studio studio [-- options]       the same, spelled as ``timbre studio``
    timbre-studio say|models|voices|voice ...  the ``timbre`` command line

One executable, so the torch and Qt libraries are in the bundle once.
"""

import sys

CLI_COMMANDS = ("say", "models", "voices", "voice")


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["studio"]:
        args = [a for a in args[1:] if a != "--"]
    elif args[:1] and args[0] in CLI_COMMANDS:
        from engine.cli import main as cli

        return cli(args)
    from studio.app import main as studio

    return studio(args)


if __name__ == "__main__":
    sys.exit(main())
