from .cli import main

if __name__ == "__main__":      # not when a spawned worker (the announcer's renderer) imports the main module
    raise SystemExit(main())
