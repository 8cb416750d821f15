import sys

from wiretrace.cli import main

sys.exit(main())
