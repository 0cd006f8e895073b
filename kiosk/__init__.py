"""The kiosk program: the kiosk's touch UI on localhost, its own printer and ID-card reader, and the
hall server reached only over its HTTP API (`onewindow-kiosk --server URL --token TOKEN --devices FILE`)."""
