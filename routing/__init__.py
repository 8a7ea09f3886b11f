"""Understanding a neighbor's message and finding their office: pure Python over data files."""
