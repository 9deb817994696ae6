# The packaged default config differs from etc/gatehouse.yaml in where the
# daemon keeps its state and whose it is; debian/rules checks each line took.
s|^  state_dir: ./var$|  state_dir: /var/lib/gatehouse|
s|^  # a warning. The systemd unit runs it as a dynamic user instead.$|  # a warning. The packaged systemd unit starts it as this user already.|
s|^  # user: gatehouse$|  user: _gatehouse|
