# Part of qwire (hand-written, the same in every bundle): applies, in each
# qube, the state qwire generated for that qube (salt/qwire/qubes/<qube>.sls;
# '.' in a qube name is written as '_').
# Apply: sudo qubesctl --skip-dom0 --targets=<qubes> state.apply qwire.vm saltenv=user
# A qube without such a state (not in qwire.yaml, or its state is gone) gets
# one state that changes nothing and says so: an empty run would fail under
# salt-ssh (no states = retcode 20).
{%- set qube_sls = 'qwire.qubes.' ~ grains['id'] | replace('.', '_') %}
{%- if grains['id'] != 'dom0' and qube_sls in salt['cp.list_states'](saltenv) %}
include:
  - {{ qube_sls }}
{%- else %}
qwire-no-state-for-this-qube:
  cmd.run:
    - name: &noop echo "changed=no comment='qwire has no state for this qube in this bundle, nothing to do'"
    - stateful:
      - test_name: *noop
{%- endif %}
