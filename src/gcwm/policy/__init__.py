"""Policy: pure checks of what gcwm is asked to provision. No I/O: the caller fetches the data
(the org's limits and inventory, the policy file's contents) and passes it in; checks return
findings or normalised values, and raise only gcwm's own error types.

May import gcwm.errors only.
"""

__all__: list[str] = []
