"""The tutorial's example code is run by tests/docs/test_plugin_tutorial.py.

It does so in fresh processes on copies, as a reader would; a pytest run
over docs/ must not import it into its own session (registering the LAB
format there would change what every other test sees).
"""

collect_ignore = ["example"]
