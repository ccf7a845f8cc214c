-- Checks every page of the file for damage; one row "ok" when it is sound.
PRAGMA quick_check;
