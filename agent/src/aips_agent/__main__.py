from aips_agent.cli import main

main()
