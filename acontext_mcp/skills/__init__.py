"""Skills: Agent Skills folders (SKILL.md + files) in a directory the user owns.

Markdown is canonical; anything derived from it is rebuilt from the files.

No imports here: the hook hot path imports SKILL_FILE from this package.
"""

SKILL_FILE = "SKILL.md"  # the one file every skill folder has (the Agent Skills format)
