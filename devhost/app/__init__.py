"""The user's Functions app as the host reads it: host.json and local.settings.json, access keys, the functions of
either programming model (function.json folders or a v2 script), their route templates, and the calls of their
entry points through azure.functions' converters. May import: the foundation and itself."""
