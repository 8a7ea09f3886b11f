"""Application assembly: settings, command line, (later) the ASGI app and channels."""
