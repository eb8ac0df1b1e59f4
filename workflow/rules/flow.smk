# flow branch — see DEVELOPING.md for who owns this file.
