"""``wiretrace web``: a read-only HTML view of a wiretrace server, for editors.

It talks to the service only through the Python client (so it works against any replica, on
SQLite or Redis), renders every page on the server with the standard library, and escapes every
text it shows: article texts are untrusted input. ``app`` serves and routes, ``views`` turns a
request into client calls and a page, ``pages`` renders, ``highlight`` marks passages by offsets.
"""
