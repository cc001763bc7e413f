"""Pure-Python references that tests compare the torch implementations against."""


def lowbias32(x: int) -> int:
    """Wellons' lowbias32 integer mixer with wrapping uint32 arithmetic (what nlcore.noise.hash32 computes)."""
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)
