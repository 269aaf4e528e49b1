-- Folds the write-ahead log into the file, so the one file holds everything before the
-- seed renames it into place.
CHECKPOINT
