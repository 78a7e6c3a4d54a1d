"""pytest plugin registered by etlcore (entry point ``pytest11``).

It must import cheaply: pytest loads it in every session of every project that has etlcore
installed. Fixtures are added below as the kit grows.
"""
