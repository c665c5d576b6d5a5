"""The Flask shell the center and HQ share, and the center's JSON API.

``shell`` builds a Flask app with the shared templates, static files, cookies, errors and
filters; ``api`` is the JSON API (validate, operate, publish, answer); ``auth``, ``security``,
``validation`` and ``enrolment`` guard requests; ``language`` words the staff pages;
``wiring`` hands views the services the factory made; ``pages``, ``exports`` and
``charts`` serve what several screens show. May import every layer below it (live,
hq_link, office, queue); never the screens.
"""
