import os
import sys

# eval/ holds top-level modules (runio, label) and the adapter package (peers).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
