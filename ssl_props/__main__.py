import sys

from ssl_props.cli import main

sys.exit(main())
