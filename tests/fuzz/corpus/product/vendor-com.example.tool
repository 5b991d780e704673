# SPDX-License-Identifier: LGPL-2.1-or-later
id = "com.example.tool";
name = "Example Tool";
trusted_keys = [ "b/nXGsNMMvmcxQ558lu1izzP/DfV7WlN9MgmaERgcRw=" ];
validation_interval = 0;
