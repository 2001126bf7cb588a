"""`python -m titans_kernels` is the `titans-kernels` command."""
import sys

from .cli import main

sys.exit(main())
