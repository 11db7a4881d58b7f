"""What the maps show: the data handed to layers/."""
