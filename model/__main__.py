import sys

from model.service.cli import main

sys.exit(main())
