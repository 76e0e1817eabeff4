"""`rl` with only the toy plugin, for end-to-end tests in a subprocess."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import toy_plugin

from rl_cli.app import main
from rl_core.plugins import make_plugin_manager

if __name__ == "__main__":
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(toy_plugin, name="toy")
    main(sys.argv[1:], pm)
