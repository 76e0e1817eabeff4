"""`rl` with only the toy plugin, for end-to-end tests in a subprocess."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import toy_plugin  # noqa: E402

from rl_cli.app import main  # noqa: E402
from rl_core.plugins import make_plugin_manager  # noqa: E402

if __name__ == "__main__":
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(toy_plugin, name="toy")
    main(sys.argv[1:], pm)
