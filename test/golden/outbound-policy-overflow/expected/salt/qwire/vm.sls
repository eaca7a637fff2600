# Part of qwire (hand-written, the same in every bundle): applies, in each
# qube, the state qwire generated for that qube (salt/qwire/qubes/<qube>.sls;
# '.' in a qube name is written as '_').
# Apply: sudo qubesctl --skip-dom0 --targets=<qubes> state.apply qwire.vm saltenv=user
{%- if grains['id'] != 'dom0' %}
include:
  - qwire.qubes.{{ grains['id'] | replace('.', '_') }}
{%- endif %}
