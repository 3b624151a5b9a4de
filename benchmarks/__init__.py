"""`make bench` and `make bench-peers`: devhost's figures on this machine, outside the package that ships."""
