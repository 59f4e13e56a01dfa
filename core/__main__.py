from conceptcoach.cli import main

raise SystemExit(main())
