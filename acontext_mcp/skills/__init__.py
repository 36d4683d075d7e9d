"""Skills: Agent Skills folders (SKILL.md + files) in a directory the user owns.

Markdown is canonical; anything derived from it is rebuilt from the files.
"""
