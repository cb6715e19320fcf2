"""Date and number formats for Kazakh (`FORMAT_MODULE_PATH`), which Django does not ship; not an
app."""
