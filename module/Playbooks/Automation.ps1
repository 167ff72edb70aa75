# Automation: build runners and image-factory helpers. A runner is only useful once it is registered with its
# coordinator again, which is the service's post-install configuration (the tier's configure commands, e.g. an
# ansible-playbook run on the builder that registers the runner); its checks prove the runner answers.
Get-RebuildStandardStep Identity, DhcpReservation, DnsRecords, Vm, WaitForSsh, HostKey
Get-RebuildStandardStep Configure -Description 'The runner is installed and registered again: the tier''s configure commands ran on the builder and the runner answers its declared checks.'
Get-RebuildStandardStep Restore, Verify
