"""Appeals: the letter, its addressees, its frozen versions and publishing."""
