"""The deterministic demo street (Suxian District, Chenzhou)."""
