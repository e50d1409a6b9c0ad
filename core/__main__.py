import sys

if sys.argv[1:2] == ["run-job"]:
    from core.priority import lower_priority

    lower_priority()  # before the imports below pull in torch: the job's whole life runs in the background

from core.cli import main  # noqa: E402

sys.exit(main())
