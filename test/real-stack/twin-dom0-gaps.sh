# Run in the twin's dom0 before a bundle is applied: what a real dom0 has and the
# twin's dom0 lacks, for the qvm Salt module's commands (qvm.present runs qvm-check
# and qvm-create as the first member of group qubes, "user", through su):
# a shadow entry for user (su refuses a user without one), read access to the
# vendored qubesadmin under /root, the qubesd socket in group qubes, and the
# qvm-create, qvm-remove, qvm-kill and qvm-shutdown launchers and dom0's
# qubes-prefs (the twin installs qvm-prefs, qvm-features, qvm-firewall, qvm-ls
# and qvm-check only), each the real qubesadmin tool launched as qvm-prefs is.
grep -q '^user:' /etc/shadow || echo 'user:!:19000:0:99999:7:::' >>/etc/shadow
chmod o+x /root
chgrp qubes /var/run/qubesd.sock
for t in qvm-create qvm-remove qvm-kill qvm-shutdown qubes-prefs; do
	sed "s/qvm-prefs/$t/g; s/qvm_prefs/$(echo "$t" | tr - _)/g" /usr/bin/qvm-prefs >"/usr/bin/$t"
	chmod 755 "/usr/bin/$t"
done
