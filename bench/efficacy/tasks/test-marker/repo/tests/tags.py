"""`@tag("name")` marks a test; runtests.py --exclude name leaves it out."""


def tag(*names: str):
    def mark(obj):
        obj.tags = set(getattr(obj, "tags", set())) | set(names)
        return obj

    return mark
