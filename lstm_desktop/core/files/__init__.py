"""Files and the operating system: atomic writes, the `--out` policy, where the user's things and the
shipped files live, and OS failures as messages a person can act on."""
