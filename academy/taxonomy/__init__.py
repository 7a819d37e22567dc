"""The Academy's taxonomy: escalator steps, sectors, professions, principles, delivery modes
and regions."""
