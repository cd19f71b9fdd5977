"""nbgrader for the whole class: copy to /etc/jupyter/nbgrader_config.py on the hub's machine.

Every student's server and the instructor's read it. The exchange is a folder every server
sees (the single node: /srv/nbgrader/exchange, writable through SystemdSpawner's
readwrite_paths; Zero to JupyterHub: the shared volume mounted there, deploy/z2jh/values.yaml).
Create it once, as root, with the modes nbgrader expects:

    mkdir -p /srv/nbgrader/exchange && chmod 0777 /srv/nbgrader/exchange

nbgrader then makes <course>/outbound (readable by all) and <course>/inbound (writable by
all, sticky: a student cannot read or delete another's submission) on the first release.
The instructor adds their own course folder in ~/.jupyter/nbgrader_config.py:
    c.CourseDirectory.root = "/home/<instructor>/nn-course-grading"
tests/test_classroom_nbgrader.py runs release, fetch, submit, collect and autograde with
this configuration and two students (deploy/sizing.py holds the same two values).
"""

c = get_config()  # noqa: F821 -- provided by the Jupyter config loader

c.CourseDirectory.course_id = "nn-training"
c.Exchange.root = "/srv/nbgrader/exchange"
