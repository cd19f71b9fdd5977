# The zh notebooks are the English ones with translated markdown; their code cells and stored
# outputs are copies (tools/i18n.py), checked identical by tests/test_i18n.py. nbval does not
# execute them a second time.
collect_ignore_glob = ["*.ipynb"]
