"""Files in and out: readers, the import engine, exports."""
