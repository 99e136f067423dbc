import sys

from chatrec.cli import main

sys.exit(main())
