"""What happens with second factors: the login stage and code checks
(authenticate), set-up and removal (manage), and the freshness check every
change needs (reauthentication)."""
