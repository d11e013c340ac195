"""Data shipped inside the wheel: schemas, bundled guidelines and example patients.

``schema``, ``guidelines`` and ``examples`` are symbolic links to the repository folders of the same name, so
the wheel carries them as package data and an editable install sees the same files. They are found through
``interpreter.loading.resources.bundled_folder``.
"""
