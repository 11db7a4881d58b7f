"""The media store (照片): photos kept once by content (SHA-256) under the data folder, their type
judged by content, EXIF time and position kept as evidence, and EXIF-free copies (a thumbnail and a
published copy) for pages. Read only through the record a photo belongs to."""
